//! A real S3-compatible store for tests: PyPI's `moto[server]` (from `$LIBRECHAT_TEST_PYTHON`'s
//! environment) on a free loopback port, with signatures checked: its first four requests are
//! let through to make an IAM user, its access key and policy, and the bucket; every later one
//! must be signed with that key. Skipped with a note where it is missing, unless
//! `LIBRECHAT_REQUIRE_PEERS=1`.
#![allow(dead_code)]

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use librechat::files::storage::sigv4::{self, Signer};

use super::smtp::peers_required;

pub const BUCKET: &str = "uploads";
pub const REGION: &str = "us-east-1";

pub struct Moto {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    pub key_id: String,
    pub secret: String,
}

fn executable() -> Option<PathBuf> {
    let bin = PathBuf::from(super::python()).parent()?.join("moto_server");
    bin.exists().then_some(bin)
}

/// The text of `<tag>` in `xml`, first one.
pub fn tag<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let start = xml.find(&open)? + open.len();
    Some(&xml[start..start + xml[start..].find(&close)?])
}

impl Moto {
    /// Starts moto and makes the user, its key and the bucket.
    pub async fn start() -> Option<Self> {
        let Some(bin) = executable() else {
            assert!(
                !peers_required(),
                "moto[server] is required (LIBRECHAT_REQUIRE_PEERS=1) but is not installed next to LIBRECHAT_TEST_PYTHON"
            );
            eprintln!(
                "skipped: moto is not installed (pip install 'moto[server]', or run .ci/run)"
            );
            return None;
        };
        let (child, port) = {
            let _one = super::PEER_START.lock().unwrap_or_else(|e| e.into_inner());
            let port = super::free_port();
            let mut child = Command::new(&bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("INITIAL_NO_AUTH_ACTION_COUNT", "4")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn moto_server");
            let deadline = Instant::now() + Duration::from_secs(60);
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    Instant::now() < deadline && matches!(child.try_wait(), Ok(None)),
                    "moto_server did not start"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
            (child, port)
        };
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        // Unsigned: moto tells IAM requests apart by the service an Authorization header names.
        let iam = |form: Vec<(&'static str, String)>| {
            http.post(format!("{endpoint}/"))
                .header(
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=x/20260101/us-east-1/iam/aws4_request, \
                     SignedHeaders=host, Signature=x",
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body(
                    url::form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(form)
                        .finish(),
                )
                .send()
        };
        let user = || ("UserName", "librechat".to_owned());
        let version = || ("Version", "2010-05-08".to_owned());
        let created = iam(vec![("Action", "CreateUser".into()), user(), version()])
            .await
            .unwrap();
        assert!(created.status().is_success());
        let key = iam(vec![
            ("Action", "CreateAccessKey".into()),
            user(),
            version(),
        ])
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        let allowed = iam(vec![
            ("Action", "PutUserPolicy".into()),
            user(),
            ("PolicyName", "all".into()),
            ("PolicyDocument", policy.into()),
            version(),
        ])
        .await
        .unwrap();
        assert!(allowed.status().is_success());
        let bucket = http
            .put(format!("{endpoint}/{BUCKET}"))
            .send()
            .await
            .unwrap();
        assert!(bucket.status().is_success(), "{}", bucket.status());
        Some(Moto {
            child: Some(child),
            endpoint,
            key_id: tag(&key, "AccessKeyId").unwrap().to_owned(),
            secret: tag(&key, "SecretAccessKey").unwrap().to_owned(),
        })
    }

    /// The environment of a server storing its files here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.into()),
            ("AWS_BUCKET_NAME", BUCKET.into()),
            ("AWS_ACCESS_KEY_ID", self.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.clone()),
            ("AWS_FORCE_PATH_STYLE", "true".into()),
        ]
    }

    /// A server storing its files here, with `change` over the environment of [`Moto::env`].
    pub async fn server(&self, change: &[(&str, &str)]) -> super::TestServer {
        self.builder(change).start().await
    }

    /// The settings of [`Moto::server`].
    pub fn builder(&self, change: &[(&str, &str)]) -> super::Builder {
        let mut b = super::TestServer::builder()
            .yaml("version: 1.2.8\nfileStrategy: s3\n")
            .env("OPENAI_API_KEY", "sk-test")
            .env("OPENAI_MODELS", "gpt-4o");
        for (k, v) in self.env() {
            let v = change
                .iter()
                .find(|(ck, _)| *ck == k)
                .map_or(v, |(_, cv)| (*cv).to_owned());
            b = b.env(k, &v);
        }
        for (k, v) in change {
            if !self.env().iter().any(|(ek, _)| ek == k) {
                b = b.env(k, v);
            }
        }
        b
    }

    /// A `GET` of `path_and_query` signed with the bucket's keys.
    pub async fn signed_get(&self, path_and_query: &str) -> reqwest::Response {
        let url = url::Url::parse(&format!("{}{path_and_query}", self.endpoint)).unwrap();
        let signer = Signer {
            key_id: self.key_id.clone(),
            secret: self.secret.clone(),
            token: None,
            region: REGION.into(),
        };
        let mut request = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .get(url.clone());
        for (k, v) in signer.headers("GET", &url, time::OffsetDateTime::now_utc()) {
            request = request.header(k, v);
        }
        request.send().await.unwrap()
    }

    /// The keys of the objects in the bucket (one page: tests store few).
    pub async fn objects(&self) -> Vec<String> {
        let query = sigv4::query(&[("list-type", "2")]);
        let resp = self.signed_get(&format!("/{BUCKET}/?{query}")).await;
        assert_eq!(resp.status(), 200);
        let xml = resp.text().await.unwrap();
        xml.split("<Key>")
            .skip(1)
            .map(|s| s.split("</Key>").next().unwrap().to_owned())
            .collect()
    }

    /// The bytes of the object `name`, straight from the store.
    pub async fn object(&self, name: &str) -> Vec<u8> {
        let resp = self.signed_get(&format!("/{BUCKET}/{name}")).await;
        assert_eq!(resp.status(), 200);
        resp.bytes().await.unwrap().to_vec()
    }

    /// The multipart uploads started and neither completed nor aborted (ListMultipartUploads).
    pub async fn multipart_uploads(&self) -> usize {
        let resp = self.signed_get(&format!("/{BUCKET}/?uploads=")).await;
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap().matches("<UploadId>").count()
    }

    /// Whether moto checks signatures from now on. moto reads only the `Authorization`
    /// header: a presigned URL (signed in its query) is answered with a 500 while it checks,
    /// and whatever its signature while it does not. So presigned URLs are fetched with
    /// checks off, and their signatures are checked against AWS's and botocore's vectors.
    pub async fn check_signatures(&self, on: bool) {
        let resp = reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body(if on { "0" } else { "inf" })
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
    }

    /// Stops the store (as a crash would).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}
