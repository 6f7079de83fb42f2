//! Images people attach: decoded under limits, turned upright, resized for vision models and
//! stored once, re-encoded — which drops every piece of metadata (a photo's location with it).
//!
//! Decoding is bounded before any pixel is allocated: a PNG of a few kilobytes that declares
//! 50,000 × 50,000 pixels is refused from its header ([`MAX_SIDE`], [`MAX_PIXELS`],
//! [`MAX_DECODE_BYTES`]). Blocking and CPU-bound: run on a blocking thread.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbaImage};

/// The widest or tallest image decoded at all.
pub const MAX_SIDE: u32 = 12_000;
/// The most pixels an image may have (a 48-megapixel photo passes).
pub const MAX_PIXELS: u64 = 50_000_000;
/// The most memory one decode may take.
pub const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// How a stored image is written (librechat.yaml's `imageOutputType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputType {
    /// LibreChat's default.
    #[default]
    Png,
    Jpeg,
    /// Lossless WebP.
    Webp,
}

impl OutputType {
    /// From librechat.yaml's `imageOutputType`: `png`, `jpeg` or `webp`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Some(OutputType::Png),
            "jpeg" | "jpg" => Some(OutputType::Jpeg),
            "webp" => Some(OutputType::Webp),
            _ => None,
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            OutputType::Png => "image/png",
            OutputType::Jpeg => "image/jpeg",
            OutputType::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            OutputType::Png => "png",
            OutputType::Jpeg => "jpg",
            OutputType::Webp => "webp",
        }
    }
}

/// The size an image is kept at, as LibreChat resizes for vision ("high" resolution): the
/// short side at most 768 pixels, the long side at most 2,000 (1,568 for Anthropic, which
/// shrinks anything larger itself), never enlarged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fit {
    pub max_short: u32,
    pub max_long: u32,
}

impl Fit {
    pub const HIGH: Fit = Fit {
        max_short: 768,
        max_long: 2000,
    };
    pub const ANTHROPIC: Fit = Fit {
        max_short: 768,
        max_long: 1568,
    };

    /// The size `(width, height)` becomes.
    pub fn apply(self, width: u32, height: u32) -> (u32, u32) {
        let (short, long) = (width.min(height), width.max(height));
        let scale = f64::min(
            f64::from(self.max_short) / f64::from(short.max(1)),
            f64::from(self.max_long) / f64::from(long.max(1)),
        );
        if scale >= 1.0 {
            return (width, height);
        }
        let w = ((f64::from(width) * scale).round() as u32).max(1);
        let h = ((f64::from(height) * scale).round() as u32).max(1);
        (w, h)
    }
}

/// An image ready to store.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub bytes: Vec<u8>,
    pub output: OutputType,
    pub width: u32,
    pub height: u32,
}

/// Why an image was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the image is {width} × {height} pixels, more than this server decodes")]
    TooLarge { width: u32, height: u32 },
    #[error("the image could not be read: {0}")]
    Broken(String),
    #[error("the image could not be written: {0}")]
    Encode(String),
}

fn broken(e: image::ImageError) -> ImageError {
    match e {
        image::ImageError::Limits(_) => ImageError::TooLarge {
            width: 0,
            height: 0,
        },
        other => ImageError::Broken(other.to_string()),
    }
}

/// Decodes `bytes` under the limits, turns the picture upright by its EXIF orientation,
/// shrinks it to `fit`, and writes it as `output` without metadata.
pub fn prepare(bytes: &[u8], fit: Fit, output: OutputType) -> Result<Prepared, ImageError> {
    let mut pixels = decode(bytes)?;
    let (w, h) = fit.apply(pixels.width(), pixels.height());
    if (w, h) != (pixels.width(), pixels.height()) {
        // Area-averaging: quicker and lighter than a convolution filter when shrinking (a
        // 12-megapixel photo: 123 ms and 76 MB against 290 ms and 144 MB).
        pixels = image::imageops::thumbnail(&pixels, w, h);
    }
    let (width, height) = (pixels.width(), pixels.height());
    let bytes = encode(pixels, output)?;
    Ok(Prepared {
        bytes,
        output,
        width,
        height,
    })
}

/// Decodes `bytes` under the limits into upright 8-bit RGBA pixels (the EXIF orientation
/// applied; every piece of metadata left behind).
pub fn decode(bytes: &[u8]) -> Result<RgbaImage, ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ImageError::Broken(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits.clone());
    let mut decoder = match reader.into_decoder() {
        Ok(d) => d,
        Err(image::ImageError::Limits(_)) => {
            return Err(ImageError::TooLarge {
                width: 0,
                height: 0,
            });
        }
        Err(e) => return Err(broken(e)),
    };
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(ImageError::TooLarge { width, height });
    }
    // The decoder checks the sides; the pixels' memory is checked here, before it is taken.
    limits
        .reserve(decoder.total_bytes())
        .map_err(|_| ImageError::TooLarge { width, height })?;
    let orientation = decoder.orientation().map_err(broken)?;
    // One pixel type from here on (8-bit RGBA): each further step is compiled once, not once
    // per colour type a decoder may give (0.5 MB of the release binary).
    let pixels = DynamicImage::from_decoder(decoder)
        .map_err(broken)?
        .into_rgba8();
    Ok(upright(pixels, orientation))
}

/// Turns the pixels as the EXIF orientation says they are to be seen.
fn upright(p: RgbaImage, orientation: Orientation) -> RgbaImage {
    use image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};
    match orientation {
        Orientation::NoTransforms => p,
        Orientation::Rotate90 => rotate90(&p),
        Orientation::Rotate180 => rotate180(&p),
        Orientation::Rotate270 => rotate270(&p),
        Orientation::FlipHorizontal => flip_horizontal(&p),
        Orientation::FlipVertical => flip_vertical(&p),
        Orientation::Rotate90FlipH => flip_horizontal(&rotate90(&p)),
        Orientation::Rotate270FlipH => flip_horizontal(&rotate270(&p)),
    }
}

/// Writes the pixels as `output`, with no metadata.
pub fn encode(pixels: RgbaImage, output: OutputType) -> Result<Vec<u8>, ImageError> {
    use image::codecs::{jpeg::JpegEncoder, png::PngEncoder, webp::WebPEncoder};
    use image::{ExtendedColorType, ImageEncoder};
    let (w, h) = (pixels.width(), pixels.height());
    let mut out = Vec::new();
    let written = match output {
        OutputType::Png => {
            PngEncoder::new(&mut out).write_image(&pixels, w, h, ExtendedColorType::Rgba8)
        }
        // JPEG has no alpha: flattened to RGB.
        OutputType::Jpeg => {
            let rgb: Vec<u8> = pixels.pixels().flat_map(|p| [p[0], p[1], p[2]]).collect();
            JpegEncoder::new_with_quality(&mut out, 85).write_image(
                &rgb,
                w,
                h,
                ExtendedColorType::Rgb8,
            )
        }
        OutputType::Webp => {
            WebPEncoder::new_lossless(&mut out).write_image(&pixels, w, h, ExtendedColorType::Rgba8)
        }
    };
    written.map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG of `w` × `h` pixels of one colour.
    fn png(w: u32, h: u32) -> Vec<u8> {
        let pixels = RgbaImage::from_pixel(w, h, image::Rgba([200, 30, 30, 255]));
        encode(pixels, OutputType::Png).unwrap()
    }

    /// A PNG header that declares `w` × `h` pixels, with a tiny (wrong) body.
    fn declared_png(w: u32, h: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend_from_slice(&w.to_be_bytes());
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        out.extend_from_slice(&13u32.to_be_bytes());
        out.extend_from_slice(&ihdr);
        out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        // An empty first data chunk, so the header reads as complete.
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(b"IDAT");
        out.extend_from_slice(&crc32(b"IDAT").to_be_bytes());
        out
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn sizes_fit_like_librechats_high_resolution() {
        assert_eq!(Fit::HIGH.apply(4000, 3000), (1024, 768));
        assert_eq!(Fit::HIGH.apply(3000, 4000), (768, 1024));
        assert_eq!(Fit::HIGH.apply(10_000, 1000), (2000, 200));
        assert_eq!(Fit::ANTHROPIC.apply(10_000, 1000), (1568, 157));
        assert_eq!(Fit::HIGH.apply(640, 480), (640, 480), "never enlarged");
    }

    #[test]
    fn an_image_is_shrunk_and_written_again() {
        let p = prepare(&png(3000, 1500), Fit::HIGH, OutputType::Jpeg).unwrap();
        assert_eq!((p.width, p.height), (1536, 768));
        assert_eq!(&p.bytes[..3], b"\xff\xd8\xff");
        let p = prepare(&png(10, 10), Fit::HIGH, OutputType::Webp).unwrap();
        assert_eq!(&p.bytes[8..12], b"WEBP");
    }

    #[test]
    fn a_huge_declared_size_is_refused_before_decoding() {
        let bomb = declared_png(50_000, 50_000);
        assert!(bomb.len() < 100);
        assert!(matches!(
            prepare(&bomb, Fit::HIGH, OutputType::Png),
            Err(ImageError::TooLarge { .. })
        ));
        // Within the sides but over the pixels.
        assert!(matches!(
            prepare(&declared_png(11_000, 11_000), Fit::HIGH, OutputType::Png),
            Err(ImageError::TooLarge { .. })
        ));
    }

    /// A JPEG of `w` × `h` with an EXIF block saying "rotate 90° clockwise to view" and a
    /// marker standing in for a location.
    fn jpeg_turned(w: u32, h: u32) -> Vec<u8> {
        let plain = encode(
            RgbaImage::from_pixel(w, h, image::Rgba([9, 9, 9, 255])),
            OutputType::Jpeg,
        )
        .unwrap();
        let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
        tiff.extend_from_slice(&[0, 1]); // one entry
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0]); // Orientation = 6
        tiff.extend_from_slice(&[0, 0, 0, 0]); // no next IFD
        tiff.extend_from_slice(b"GPS-48.3904N-4.4861W");
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend_from_slice(&tiff);
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    }

    #[test]
    fn photos_are_turned_upright_and_lose_their_metadata() {
        let turned = jpeg_turned(40, 20);
        let p = prepare(&turned, Fit::HIGH, OutputType::Png).unwrap();
        assert_eq!((p.width, p.height), (20, 40), "rotated as the EXIF says");
        let p = prepare(&turned, Fit::HIGH, OutputType::Jpeg).unwrap();
        let found = |needle: &[u8]| p.bytes.windows(needle.len()).any(|w| w == needle);
        assert!(!found(b"Exif") && !found(b"GPS-48"), "no metadata is kept");
    }

    #[test]
    fn broken_images_are_an_error_not_a_panic() {
        let mut cut = png(100, 100);
        cut.truncate(cut.len() / 2);
        assert!(matches!(
            prepare(&cut, Fit::HIGH, OutputType::Png),
            Err(ImageError::Broken(_))
        ));
        assert!(prepare(b"GIF89a", Fit::HIGH, OutputType::Png).is_err());
    }
}
