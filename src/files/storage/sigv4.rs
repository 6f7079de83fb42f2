//! AWS Signature Version 4 for S3, in the `Authorization` header (the form every AWS SDK sends,
//! and the one S3-compatible stores and their test doubles all check), with an unsigned payload
//! so that an upload streams without being read twice.
//!
//! The URL is signed as given: its path must already be percent-encoded and its query built by
//! [`query`] (sorted, strictly encoded), which is what AWS's canonical form asks for.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Who signs, and for which region.
#[derive(Clone)]
pub struct Signer {
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
    pub region: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("key_id", &self.key_id)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Everything but `A-Z a-z 0-9 - . _ ~` (AWS's `UriEncode`).
const STRICT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A path segment, encoded.
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, STRICT).to_string()
}

/// A query string in canonical form: pairs sorted, names and values strictly encoded.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (segment(k), segment(v)))
        .collect();
    encoded.sort();
    encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `YYYYMMDD` and `YYYYMMDDTHHMMSSZ` of `now`.
fn stamps(now: OffsetDateTime) -> (String, String) {
    let date = format!(
        "{:04}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        now.hour(),
        now.minute(),
        now.second()
    );
    (date, stamp)
}

/// The `host` a client sends for `url`.
fn host(url: &url::Url) -> String {
    match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

impl Signer {
    /// `date/region/s3/aws4_request`.
    fn scope(&self, date: &str) -> String {
        format!("{date}/{}/s3/aws4_request", self.region)
    }

    /// The signature of a canonical request made at `stamp` (on `date`).
    fn signature(&self, date: &str, stamp: &str, canonical: &str) -> String {
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{stamp}\n{}\n{}",
            self.scope(date),
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = [self.region.as_str(), "s3", "aws4_request"].iter().fold(
            hmac(format!("AWS4{}", self.secret).as_bytes(), date),
            |k, part| hmac(&k, part),
        );
        hex::encode(hmac(&key, &to_sign))
    }

    /// The headers that sign `method url` at `now`: `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` with a session token, and `authorization`.
    pub fn headers(
        &self,
        method: &str,
        url: &url::Url,
        now: OffsetDateTime,
    ) -> Vec<(&'static str, String)> {
        let (date, stamp) = stamps(now);
        let mut headers = vec![
            ("host", host(url)),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD".to_owned()),
            ("x-amz-date", stamp.clone()),
        ];
        if let Some(t) = &self.token {
            headers.push(("x-amz-security-token", t.clone()));
        }
        let signed: Vec<&str> = headers.iter().map(|(k, _)| *k).collect();
        let signed = signed.join(";");
        let canonical_headers: String = headers
            .iter()
            .map(|(k, v)| format!("{k}:{}\n", v.trim()))
            .collect();
        let canonical = format!(
            "{method}\n{}\n{}\n{canonical_headers}\n{signed}\nUNSIGNED-PAYLOAD",
            url.path(),
            url.query().unwrap_or_default()
        );
        let signature = self.signature(&date, &stamp, &canonical);
        headers.remove(0); // reqwest sends `host` from the URL, the same.
        headers.push((
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{}, SignedHeaders={signed}, Signature={signature}",
                self.key_id,
                self.scope(&date)
            ),
        ));
        headers
    }

    /// A presigned URL (AWS's "query string authentication"): `url` (no query of its own)
    /// with `query` and the signature of `method` in its query, good for `expires` seconds
    /// from `now`. Whoever holds it may make that request, and only that one, without keys.
    pub fn presign(
        &self,
        method: &str,
        url: &url::Url,
        query: &[(&str, &str)],
        now: OffsetDateTime,
        expires: u64,
    ) -> url::Url {
        let (date, stamp) = stamps(now);
        let credential = format!("{}/{}", self.key_id, self.scope(&date));
        let expires = expires.to_string();
        let mut pairs = query.to_vec();
        pairs.extend([
            ("X-Amz-Algorithm", "AWS4-HMAC-SHA256"),
            ("X-Amz-Credential", &credential),
            ("X-Amz-Date", &stamp),
            ("X-Amz-Expires", &expires),
            ("X-Amz-SignedHeaders", "host"),
        ]);
        if let Some(t) = &self.token {
            pairs.push(("X-Amz-Security-Token", t));
        }
        let query = self::query(&pairs);
        let canonical = format!(
            "{method}\n{}\n{query}\nhost:{}\n\nhost\nUNSIGNED-PAYLOAD",
            url.path(),
            host(url)
        );
        let signature = self.signature(&date, &stamp, &canonical);
        let mut signed = url.clone();
        signed.set_query(Some(&format!("{query}&X-Amz-Signature={signature}")));
        signed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of AWS's examples.
    fn example() -> Signer {
        Signer {
            key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
            token: None,
            region: "us-east-1".into(),
        }
    }

    /// AWS's own example: "GET Object" of the Signature Version 4 documentation for S3
    /// (`examplebucket`, `test.txt`, its example keys), with an unsigned payload instead of the
    /// empty body's hash, as sent here. The expected signature was computed with botocore's
    /// `S3SigV4Auth` for the same request.
    #[test]
    fn signs_as_aws_documents() {
        let signer = example();
        let url = url::Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        let headers = signer.headers("GET", &url, now);
        let auth = &headers
            .iter()
            .find(|(k, _)| *k == "authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=5c0d4ff29e72b8f94c5b6720369921e587e39bf7a64e456887dec4b43a2d1b77"
        );
    }

    /// AWS's own example of a presigned URL ("Authenticating Requests: Using Query
    /// Parameters", `examplebucket`, `test.txt`, valid 86,400 seconds), signature as printed
    /// there.
    #[test]
    fn presigns_as_aws_documents() {
        let url = url::Url::parse("https://examplebucket.s3.amazonaws.com/test.txt").unwrap();
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        let signed = example().presign("GET", &url, &[], now, 86_400);
        assert_eq!(
            signed.as_str(),
            "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
             &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
             &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    /// What this server asks for (a port, the answer's headers, a session token), signed as
    /// botocore's `S3SigV4QueryAuth` signs the same request.
    #[test]
    fn presigns_a_download_as_botocore_does() {
        let signer = Signer {
            token: Some("tok/en+=".into()),
            ..example()
        };
        let url = url::Url::parse(
            "http://127.0.0.1:9000/uploads/files/ab/ab0123456789abcdef0123456789abcd",
        )
        .unwrap();
        let now = time::macros::datetime!(2013-05-24 00:00:00 UTC);
        let query = [
            ("response-content-type", "text/plain"),
            (
                "response-content-disposition",
                "attachment; filename*=UTF-8''a b.txt",
            ),
        ];
        let signed = signer.presign("GET", &url, &query, now, 120);
        let q = signed.query().unwrap();
        assert!(q.starts_with("X-Amz-Algorithm=AWS4-HMAC-SHA256&"), "{q}");
        assert!(q.contains("&X-Amz-Expires=120&"), "{q}");
        assert!(q.contains("&X-Amz-Security-Token=tok%2Fen%2B%3D&"), "{q}");
        assert!(
            q.contains(
                "&response-content-disposition=attachment%3B%20filename%2A%3DUTF-8%27%27a%20b.txt&"
            ),
            "{q}"
        );
        assert!(
            q.ends_with(
                "&X-Amz-Signature=230d6bd79ca9a7e4b15eb13b9ac607e38b93b9eb4f5046ca2fd3ced50ff2a716"
            ),
            "{q}"
        );
    }

    #[test]
    fn queries_are_sorted_and_strictly_encoded() {
        assert_eq!(
            query(&[
                ("prefix", "files/"),
                ("list-type", "2"),
                ("continuation-token", "a+b=")
            ]),
            "continuation-token=a%2Bb%3D&list-type=2&prefix=files%2F"
        );
    }
}
