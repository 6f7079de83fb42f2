//! Where uploaded files are stored: librechat.yaml's `fileStrategy`, with LibreChat's `AWS_*`
//! variables for `s3` (any S3-compatible store: AWS, MinIO, R2, Ceph...).
//!
//! `local` (the default) keeps them in the data folder. `s3` needs `AWS_REGION`,
//! `AWS_BUCKET_NAME`, `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (LibreChat falls back to
//! the AWS SDK's credential chain; this server has none, so the keys are required), and takes
//! `AWS_ENDPOINT_URL` (default AWS's own for the region), `AWS_FORCE_PATH_STYLE` (bucket in the
//! path rather than the host name), `AWS_SESSION_TOKEN` and `S3_URL_EXPIRY_SECONDS` (how long a
//! signed download URL works: LibreChat's default of 120 seconds, at most 7 days). A missing
//! one stops the start with its name. Other strategies (`firebase`, `azure_blob`, `cloudfront`) are noted as unsupported
//! by [`super::unsupported`] and files stay local.

use serde::Serialize;
use serde_json::Value;

use super::{ConfigError, Env, Secret};

/// The file storage chosen.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "strategy", rename_all = "lowercase")]
pub enum FileStore {
    Local,
    S3(Box<S3Settings>),
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, Serialize)]
pub struct S3Settings {
    /// `AWS_ENDPOINT_URL`, or `https://s3.{region}.amazonaws.com`.
    pub endpoint: url::Url,
    /// `AWS_REGION`.
    pub region: String,
    /// `AWS_BUCKET_NAME`.
    pub bucket: String,
    /// `AWS_FORCE_PATH_STYLE`: `https://host/bucket/key` instead of `https://bucket.host/key`.
    pub path_style: bool,
    /// `AWS_ACCESS_KEY_ID`.
    pub access_key_id: String,
    /// `AWS_SECRET_ACCESS_KEY`.
    pub secret_access_key: Secret,
    /// `AWS_SESSION_TOKEN`, for temporary credentials.
    pub session_token: Option<Secret>,
    /// `S3_URL_EXPIRY_SECONDS`: how long a signed download URL works (seconds).
    pub url_expiry_secs: u64,
    /// Uploads larger than this (bytes) are sent as a multipart upload, in parts of
    /// `part_size` bytes; S3 takes at most 5 GB in one `PUT`. Not read from the environment:
    /// tests lower them.
    pub multipart_threshold: u64,
    pub part_size: u64,
}

/// LibreChat's `S3_URL_EXPIRY_SECONDS`: 2 minutes by default, 7 days at most (AWS's limit).
const URL_EXPIRY_DEFAULT: u64 = 120;
const URL_EXPIRY_MAX: u64 = 7 * 24 * 3600;
/// A single `PUT` up to 64 MiB; larger uploads in parts of 16 MiB (S3 takes 10,000 parts of
/// at least 5 MiB: up to 160 GB this way).
pub const MULTIPART_THRESHOLD: u64 = 64 << 20;
pub const PART_SIZE: u64 = 16 << 20;

impl FileStore {
    /// The storage `fileStrategy` names (as written in librechat.yaml).
    pub fn load(env: &Env, strategy: Option<&Value>) -> Result<Self, ConfigError> {
        if strategy.and_then(Value::as_str) != Some("s3") {
            return Ok(FileStore::Local);
        }
        let required = |key: &str| {
            env.string(key).ok_or_else(|| {
                ConfigError::Other(format!(
                    "librechat.yaml sets `fileStrategy: s3`, but {key} is not set; S3 storage \
                     needs AWS_REGION, AWS_BUCKET_NAME, AWS_ACCESS_KEY_ID and \
                     AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for a store other than AWS)"
                ))
            })
        };
        let region = required("AWS_REGION")?;
        let bucket = required("AWS_BUCKET_NAME")?;
        let access_key_id = required("AWS_ACCESS_KEY_ID")?;
        let secret_access_key = Secret::new(required("AWS_SECRET_ACCESS_KEY")?);
        let endpoint = env
            .string("AWS_ENDPOINT_URL")
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"));
        let invalid = || {
            ConfigError::invalid(
                "AWS_ENDPOINT_URL",
                &endpoint,
                "an http:// or https:// URL of the S3 endpoint",
            )
        };
        let endpoint_url = url::Url::parse(&endpoint).map_err(|_| invalid())?;
        if !matches!(endpoint_url.scheme(), "http" | "https") || endpoint_url.host().is_none() {
            return Err(invalid());
        }
        let s3 = S3Settings {
            endpoint: endpoint_url,
            region,
            bucket,
            path_style: env.bool("AWS_FORCE_PATH_STYLE")?.unwrap_or(false),
            access_key_id,
            secret_access_key,
            session_token: env.string("AWS_SESSION_TOKEN").map(Secret::new),
            url_expiry_secs: match env.int("S3_URL_EXPIRY_SECONDS")? {
                None => URL_EXPIRY_DEFAULT,
                Some(0) => {
                    return Err(ConfigError::invalid(
                        "S3_URL_EXPIRY_SECONDS",
                        "0",
                        "a number of seconds above 0",
                    ));
                }
                Some(n) => n.min(URL_EXPIRY_MAX),
            },
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: PART_SIZE,
        };
        s3.check_addressing()?;
        Ok(FileStore::S3(Box::new(s3)))
    }
}

impl S3Settings {
    /// Virtual-host style needs a host name the bucket can go in front of.
    fn check_addressing(&self) -> Result<(), ConfigError> {
        let dns_name = !self.bucket.is_empty()
            && self
                .bucket
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.');
        let named = matches!(self.endpoint.host(), Some(url::Host::Domain(_)));
        if !self.bucket.is_empty()
            && !self.bucket.contains('/')
            && (self.path_style || (dns_name && named))
        {
            return Ok(());
        }
        Err(ConfigError::Other(format!(
            "S3 bucket {:?} at {}: with an IP address, or a bucket name that cannot be part of \
             a host name, set AWS_FORCE_PATH_STYLE=true",
            self.bucket, self.endpoint
        )))
    }

    /// The bucket's URL, ending in `/`: `https://host/bucket/` in path style, else
    /// `https://bucket.host/` (an endpoint's own path is kept in front).
    pub fn bucket_url(&self) -> url::Url {
        let mut url = self.endpoint.clone();
        url.set_query(None);
        url.set_fragment(None);
        let base = url.path().trim_end_matches('/').to_owned();
        if self.path_style {
            url.set_path(&format!("{base}/{}/", self.bucket));
        } else {
            let host = format!("{}.{}", self.bucket, url.host_str().unwrap_or_default());
            // Checked at load: a domain, so a longer one is one too.
            let _ = url.set_host(Some(&host));
            url.set_path(&format!("{base}/"));
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    const FULL: [(&str, &str); 4] = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_BUCKET_NAME", "uploads"),
        ("AWS_ACCESS_KEY_ID", "key"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
    ];

    #[test]
    fn local_unless_s3_is_named() {
        for v in [None, Some(json("local")), Some(json("firebase"))] {
            let s = FileStore::load(&env(&[]), v.as_ref()).unwrap();
            assert!(matches!(s, FileStore::Local));
        }
    }

    fn json(s: &str) -> Value {
        Value::String(s.into())
    }

    #[test]
    fn s3_names_what_is_missing() {
        for missing in FULL.map(|(k, _)| k) {
            let pairs: Vec<_> = FULL.into_iter().filter(|(k, _)| *k != missing).collect();
            let e = FileStore::load(&env(&pairs), Some(&json("s3"))).unwrap_err();
            assert!(e.to_string().contains(missing), "{e}");
        }
    }

    #[test]
    fn s3_defaults_to_aws_and_takes_an_endpoint() {
        let FileStore::S3(s) = FileStore::load(&env(&FULL), Some(&json("s3"))).unwrap() else {
            panic!("s3")
        };
        assert_eq!(s.endpoint.as_str(), "https://s3.us-east-1.amazonaws.com/");
        assert_eq!(
            s.bucket_url().as_str(),
            "https://uploads.s3.us-east-1.amazonaws.com/"
        );
        assert!(!s.path_style);
        assert_eq!(s.url_expiry_secs, 120);
        assert!(!format!("{s:?}").contains("secret\""), "{s:?}");
        for (v, secs) in [("30", Some(30)), ("999999999", Some(604_800)), ("0", None)] {
            let mut pairs = FULL.to_vec();
            pairs.push(("S3_URL_EXPIRY_SECONDS", v));
            let got = FileStore::load(&env(&pairs), Some(&json("s3")));
            match (got, secs) {
                (Ok(FileStore::S3(s)), Some(secs)) => assert_eq!(s.url_expiry_secs, secs),
                (Err(e), None) => assert!(e.to_string().contains("S3_URL_EXPIRY_SECONDS")),
                _ => panic!("S3_URL_EXPIRY_SECONDS={v}"),
            }
        }

        let mut pairs = FULL.to_vec();
        pairs.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:9000"));
        let e = FileStore::load(&env(&pairs), Some(&json("s3"))).unwrap_err();
        assert!(e.to_string().contains("AWS_FORCE_PATH_STYLE"), "{e}");
        pairs.push(("AWS_FORCE_PATH_STYLE", "true"));
        let FileStore::S3(s) = FileStore::load(&env(&pairs), Some(&json("s3"))).unwrap() else {
            panic!("s3")
        };
        assert_eq!(s.bucket_url().as_str(), "http://127.0.0.1:9000/uploads/");

        let mut ftp = FULL.to_vec();
        ftp.push(("AWS_ENDPOINT_URL", "ftp://example.org"));
        let e = FileStore::load(&env(&ftp), Some(&json("s3"))).unwrap_err();
        assert!(e.to_string().contains("AWS_ENDPOINT_URL"), "{e}");
    }
}
