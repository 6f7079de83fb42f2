//! Files benchmark (not a test): `cargo bench --bench files`.
//!
//! Prints the time and peak memory to take in a 12-megapixel JPEG as an upload does (decode
//! under limits, turn upright, shrink to LibreChat's "high" size, write as PNG), measured in
//! a child process of its own so nothing else counts in its peak.

use std::process::Command;
use std::time::Instant;

use librechat::files::images::{Fit, OutputType, prepare};

/// The peak resident memory of this process so far, in MB (Linux).
fn peak_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    if let Ok(path) = std::env::var("BENCH_FILES_CHILD") {
        let bytes = std::fs::read(&path).unwrap();
        let before = peak_mb();
        let t = Instant::now();
        let p = prepare(&bytes, Fit::HIGH, OutputType::Png).unwrap();
        println!(
            "{} {:.0} {:.1} {:.1} {}x{}",
            bytes.len(),
            t.elapsed().as_secs_f64() * 1000.0,
            before,
            peak_mb(),
            p.width,
            p.height
        );
        return;
    }
    // A photo-like 4000 × 3000 picture (gradients and texture, so JPEG has work to do).
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 64;
        image::Rgb([(x / 16 + n) as u8, (y / 12 + n) as u8, ((x + y) / 28) as u8])
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    let mut jpeg = std::io::Cursor::new(Vec::new());
    img.write_to(&mut jpeg, image::ImageFormat::Jpeg).unwrap();
    std::fs::write(&path, jpeg.into_inner()).unwrap();
    drop(img);
    let mut runs = Vec::new();
    for _ in 0..5 {
        let out = Command::new(std::env::current_exe().unwrap())
            .env("BENCH_FILES_CHILD", &path)
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let f: Vec<&str> = line.split(' ').collect();
        runs.push((
            f[1].parse::<f64>().unwrap(),
            f[3].parse::<f64>().unwrap(),
            line,
        ));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ms, peak, line) = &runs[runs.len() / 2];
    let f: Vec<&str> = line.split(' ').collect();
    println!(
        "12-megapixel JPEG ({} KB) to {} PNG: median {ms:.0} ms over 5 runs, peak RSS {peak:.0} MB (the process before: {} MB)",
        f[0].parse::<u64>().unwrap() / 1024,
        f[4],
        f[2]
    );
}
