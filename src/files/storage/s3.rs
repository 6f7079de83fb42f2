//! Uploads in an S3-compatible bucket (`fileStrategy: s3`): each key is the object
//! `files/{key}`. An upload still arrives in the data folder's `files/tmp/` with its limit,
//! then is sent whole-or-nothing streamed from that file (with its length, never held in
//! memory): one `PUT`, or above [`S3Settings::multipart_threshold`] a multipart upload that is
//! aborted if any step fails, so no orphan parts stay in the bucket. Downloads stream the
//! `GET`'s body through, or are handed out as presigned URLs ([`S3Store::download_url`]).
//!
//! Requests are signed with AWS Signature Version 4 ([`super::sigv4`]) and sent through
//! reqwest with time limits. The endpoint is the administrator's, so it is not behind
//! the guard of user-chosen URLs; what it answers is still bounded. A store that refuses or does
//! not answer gives an [`io::Error`] carrying a [`StoreError`] with its words; a missing object
//! gives [`io::ErrorKind::NotFound`].

use std::io::{self, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{CONTENT_LENGTH, ETAG};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::local::LocalDisk;
use super::sigv4::{self, Signer};
use super::{ByteStream, Received, new_key, valid_key};
use crate::config::file_store::S3Settings;

/// Where this server's objects live in the bucket (the rest of the bucket is never touched).
const PREFIX: &str = "files/";
/// The most of an error answer read for its words, and of one page of a listing (1,000 keys).
const ERROR_BYTES: usize = 16 * 1024;
const LISTING_BYTES: usize = 4 << 20;
/// The most [`S3Store::read`] takes (it serves images and documents, which are smaller).
const READ_MAX: usize = 1 << 30;
/// Time limits: to connect, between two reads of an answer, and for a request without a
/// large body.
const CONNECT: Duration = Duration::from_secs(10);
const BETWEEN_READS: Duration = Duration::from_secs(60);
const SMALL_REQUEST: Duration = Duration::from_secs(60);

/// The store refused a request or could not be reached: answered 503, these words going to
/// the log (they may name the bucket and endpoint).
#[derive(Debug, thiserror::Error)]
#[error("the file store {0}")]
pub struct StoreError(String);

fn store_error(what: String) -> io::Error {
    io::Error::other(StoreError(what))
}

/// A bucket of an S3-compatible store.
#[derive(Debug, Clone)]
pub struct S3Store {
    inner: Arc<Inner>,
    /// The local folder uploads arrive in before they are sent.
    pub(super) spool: LocalDisk,
}

#[derive(Debug)]
struct Inner {
    /// The bucket's URL, ending in `/`.
    bucket: url::Url,
    signer: Signer,
    http: reqwest::Client,
    /// How long a presigned URL works (seconds).
    url_expiry_secs: u64,
    multipart_threshold: u64,
    part_size: u64,
    /// For the blocking calls of the command line ([`S3Store::copy_in`]), made on first use.
    blocking: OnceLock<tokio::runtime::Runtime>,
}

/// The text of the first `<name>` in `xml`.
fn tag(xml: &str, name: &str) -> Option<String> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let start = xml.find(&open)? + open.len();
    let len = xml[start..].find(&close)?;
    Some(xml[start..start + len].to_owned())
}

impl Inner {
    fn new(settings: &S3Settings) -> io::Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT)
            .read_timeout(BETWEEN_READS)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(io::Error::other)?;
        Ok(Inner {
            bucket: settings.bucket_url(),
            signer: Signer {
                key_id: settings.access_key_id.clone(),
                secret: settings.secret_access_key.expose().to_owned(),
                token: settings
                    .session_token
                    .as_ref()
                    .map(|t| t.expose().to_owned()),
                region: settings.region.clone(),
            },
            http,
            url_expiry_secs: settings.url_expiry_secs,
            multipart_threshold: settings.multipart_threshold,
            // S3's smallest part (but the last) is 5 MiB; tests go lower against a store
            // told to take them.
            part_size: settings.part_size.max(1),
            blocking: OnceLock::new(),
        })
    }

    /// The URL of the object of `key` (`None`: the bucket itself).
    fn url(&self, key: Option<&str>) -> io::Result<url::Url> {
        let mut url = self.bucket.clone();
        if let Some(key) = key {
            if !valid_key(key) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a storage key",
                ));
            }
            // Keys are `[0-9a-f]{2}/[0-9a-f]{32}`: nothing to encode.
            url.set_path(&format!("{}{PREFIX}{key}", url.path()));
        }
        Ok(url)
    }

    /// A signed request for the object of `key` (`None`: the bucket itself), with `query`.
    fn request(
        &self,
        method: Method,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> io::Result<RequestBuilder> {
        let mut url = self.url(key)?;
        if !query.is_empty() {
            url.set_query(Some(&sigv4::query(query)));
        }
        let headers = self
            .signer
            .headers(method.as_str(), &url, time::OffsetDateTime::now_utc());
        let mut request = self.http.request(method, url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Ok(request)
    }

    /// Sends `request`; a 2xx answer is returned, anything else is an error with the store's
    /// words (404: [`io::ErrorKind::NotFound`]).
    async fn send(&self, request: RequestBuilder, what: &str) -> io::Result<Response> {
        let response = request
            .send()
            .await
            .map_err(|e| store_error(format!("did not answer ({what}): {e}")))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = bounded_body(response, ERROR_BYTES)
            .await
            .unwrap_or_default();
        let text = String::from_utf8_lossy(&body);
        let words = match (tag(&text, "Code"), tag(&text, "Message")) {
            (Some(c), Some(m)) => format!("{c}: {m}"),
            (Some(c), None) => c,
            _ => status.to_string(),
        };
        if status == StatusCode::NOT_FOUND && !words.contains("NoSuchBucket") {
            return Err(io::Error::new(io::ErrorKind::NotFound, words));
        }
        Err(store_error(format!("refused to {what}: {words}")))
    }
}

impl S3Store {
    /// The bucket of `settings`; uploads arrive in `spool`.
    pub fn new(settings: &S3Settings, spool: PathBuf) -> io::Result<Self> {
        Ok(S3Store {
            inner: Arc::new(Inner::new(settings)?),
            spool: LocalDisk::new(spool)?,
        })
    }

    /// Whether the bucket of `settings` answers a listing with its keys (for `doctor`).
    pub async fn check(settings: &S3Settings) -> io::Result<()> {
        let inner = Inner::new(settings)?;
        let query = [("list-type", "2"), ("max-keys", "1"), ("prefix", PREFIX)];
        let request = inner
            .request(Method::GET, None, &query)?
            .timeout(SMALL_REQUEST);
        inner.send(request, "list the files").await.map(drop)
    }

    async fn put(&self, key: &str, body: reqwest::Body, len: u64) -> io::Result<()> {
        let request = self
            .inner
            .request(Method::PUT, Some(key), &[])?
            .header(CONTENT_LENGTH, len)
            .body(body);
        self.inner.send(request, "store a file").await.map(drop)
    }

    /// Sends a received upload, streamed from its file; returns its key.
    pub async fn keep(&self, received: Received) -> io::Result<String> {
        let key = new_key();
        self.put_file(&key, received.path(), received.bytes).await?;
        // Dropped: its file is removed.
        drop(received);
        Ok(key)
    }

    /// Stores the `len` bytes of the file at `path` as `key`, streamed: in one `PUT`, or in
    /// parts above the multipart threshold.
    pub async fn put_file(&self, key: &str, path: &Path, len: u64) -> io::Result<()> {
        if len > self.inner.multipart_threshold {
            self.put_in_parts(key, path, len).await
        } else {
            let body = stretch(path, 0, len).await?;
            self.put(key, body, len).await
        }
    }

    /// The size of the object of `key`, or `None` when the bucket has no such object
    /// (a `HEAD`).
    pub async fn size(&self, key: &str) -> io::Result<Option<u64>> {
        let request = self
            .inner
            .request(Method::HEAD, Some(key), &[])?
            .timeout(SMALL_REQUEST);
        match self.inner.send(request, "describe a file").await {
            Ok(answer) => Ok(answer
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse().ok())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends the `len` bytes of the file at `path` as a multipart upload of `key`, and
    /// aborts it if a step fails: its parts are then removed rather than kept (and billed).
    async fn put_in_parts(&self, key: &str, path: &Path, len: u64) -> io::Result<()> {
        let start = self
            .inner
            .request(Method::POST, Some(key), &[("uploads", "")])?
            .timeout(SMALL_REQUEST);
        let answer = self.inner.send(start, "start a multipart upload").await?;
        let answer = bounded_body(answer, ERROR_BYTES).await?;
        let id = tag(&String::from_utf8_lossy(&answer), "UploadId")
            .ok_or_else(|| store_error("did not name the multipart upload it started".into()))?;
        let sent = self.send_parts(key, &id, path, len).await;
        if sent.is_err() {
            let abort = self
                .inner
                .request(Method::DELETE, Some(key), &[("uploadId", &id)])?
                .timeout(SMALL_REQUEST);
            if let Err(e) = self.inner.send(abort, "abort a multipart upload").await {
                tracing::warn!(error = %e, "the parts of a failed upload stay in the bucket");
            }
        }
        sent
    }

    /// The parts of a multipart upload, one after the other, each streamed from its stretch
    /// of the file, then the list that completes it.
    async fn send_parts(&self, key: &str, id: &str, path: &Path, len: u64) -> io::Result<()> {
        let mut list = String::from("<CompleteMultipartUpload>");
        let (mut offset, mut number) = (0, 1u32);
        while offset < len {
            let n = self.inner.part_size.min(len - offset);
            let part = number.to_string();
            let request = self
                .inner
                .request(
                    Method::PUT,
                    Some(key),
                    &[("partNumber", &part), ("uploadId", id)],
                )?
                .header(CONTENT_LENGTH, n)
                .body(stretch(path, offset, n).await?);
            let answer = self.inner.send(request, "store a part of a file").await?;
            let etag = answer
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| store_error("stored a part without naming it (ETag)".into()))?;
            list.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>{}</ETag></Part>",
                quick_xml::escape::escape(etag)
            ));
            offset += n;
            number += 1;
        }
        list.push_str("</CompleteMultipartUpload>");
        let request = self
            .inner
            .request(Method::POST, Some(key), &[("uploadId", id)])?
            .body(list);
        let answer = self
            .inner
            .send(request, "complete a multipart upload")
            .await?;
        // S3 may answer 200 and fail all the same, saying so in the body.
        let answer = bounded_body(answer, ERROR_BYTES).await?;
        let text = String::from_utf8_lossy(&answer);
        match tag(&text, "Code") {
            Some(code) if text.contains("<Error>") => Err(store_error(format!(
                "refused to complete a multipart upload: {code}"
            ))),
            _ => Ok(()),
        }
    }

    /// A URL that gives `key`'s bytes without keys for `S3_URL_EXPIRY_SECONDS`, answered
    /// with `disposition` and `content_type` as its headers.
    pub fn download_url(
        &self,
        key: &str,
        disposition: &str,
        content_type: &str,
    ) -> io::Result<url::Url> {
        let query = [
            ("response-content-disposition", disposition),
            ("response-content-type", content_type),
        ];
        Ok(self.inner.signer.presign(
            "GET",
            &self.inner.url(Some(key))?,
            &query,
            time::OffsetDateTime::now_utc(),
            self.inner.url_expiry_secs,
        ))
    }

    /// The runtime the blocking calls run S3 requests on.
    fn blocking(&self) -> io::Result<&tokio::runtime::Runtime> {
        if let Some(rt) = self.inner.blocking.get() {
            return Ok(rt);
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(self.inner.blocking.get_or_init(|| rt))
    }

    /// Stores what `from` reads (blocking, for the command line): spooled to a file, then
    /// sent as an upload is; returns the key and the size.
    pub fn copy_in(&self, from: &mut dyn io::Read) -> io::Result<(String, u64)> {
        let received = self.spool.receive_blocking(from)?;
        let n = received.bytes;
        Ok((self.blocking()?.block_on(self.keep(received))?, n))
    }

    /// Removes `key` (blocking, for the command line).
    pub fn discard(&self, key: &str) -> io::Result<()> {
        self.blocking()?.block_on(self.remove(key))
    }

    /// Stores `bytes`; returns the key.
    pub async fn put_bytes(&self, bytes: Vec<u8>) -> io::Result<String> {
        let key = new_key();
        let len = bytes.len() as u64;
        self.put(&key, bytes.into(), len).await?;
        Ok(key)
    }

    async fn get(&self, key: &str) -> io::Result<Response> {
        let request = self.inner.request(Method::GET, Some(key), &[])?;
        self.inner.send(request, "give a file").await
    }

    /// The bytes of `key`, whole (at most [`READ_MAX`]).
    pub async fn read(&self, key: &str) -> io::Result<Vec<u8>> {
        let response = self.get(key).await?;
        bounded_body(response, READ_MAX).await
    }

    /// The bytes of `key`, as they come.
    pub async fn open(&self, key: &str) -> io::Result<ByteStream> {
        let response = self.get(key).await?;
        Ok(response
            .bytes_stream()
            .map_err(|e| store_error(format!("stopped sending a file: {e}")))
            .boxed())
    }

    /// Removes `key`; one already gone is not an error.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        let request = self
            .inner
            .request(Method::DELETE, Some(key), &[])?
            .timeout(SMALL_REQUEST);
        match self.inner.send(request, "remove a file").await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Keys stored longer ago than `age` (a `ListObjectsV2` of this server's prefix, page by
    /// page), and leftover partial uploads in the spool that old (removed here).
    pub async fn stale_keys(&self, age: Duration) -> io::Result<Vec<String>> {
        let spool = self.spool.clone();
        tokio::task::spawn_blocking(move || spool.stale_keys(age))
            .await
            .map_err(io::Error::other)??;
        let cutoff = time::OffsetDateTime::from(SystemTime::now() - age);
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut query = vec![("list-type", "2"), ("prefix", PREFIX)];
            if let Some(t) = &token {
                query.push(("continuation-token", t));
            }
            let request = self
                .inner
                .request(Method::GET, None, &query)?
                .timeout(SMALL_REQUEST);
            let response = self.inner.send(request, "list the files").await?;
            let body = bounded_body(response, LISTING_BYTES).await?;
            let page = listing::parse(&String::from_utf8_lossy(&body))
                .map_err(|e| store_error(format!("sent a listing that does not read: {e}")))?;
            for (name, modified) in page.objects {
                let Some(key) = name.strip_prefix(PREFIX) else {
                    continue;
                };
                if valid_key(key) && modified.is_some_and(|m| m <= cutoff) {
                    keys.push(key.to_owned());
                }
            }
            match page.next {
                Some(t) if !t.is_empty() => token = Some(t),
                _ => return Ok(keys),
            }
        }
    }
}

/// `len` bytes of the file at `path` from `offset`, as a body to stream.
async fn stretch(path: &Path, offset: u64, len: u64) -> io::Result<reqwest::Body> {
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(SeekFrom::Start(offset)).await?;
    let reader = tokio_util::io::ReaderStream::new(file.take(len));
    Ok(reqwest::Body::wrap_stream(reader))
}

/// An answer's body, refused past `max` bytes.
async fn bounded_body(response: Response, max: usize) -> io::Result<Vec<u8>> {
    if response.content_length().is_some_and(|n| n > max as u64) {
        return Err(store_error(format!("sent more than {max} bytes")));
    }
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| store_error(format!("stopped sending: {e}")))?;
        if out.len() + chunk.len() > max {
            return Err(store_error(format!("sent more than {max} bytes")));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// `ListObjectsV2`'s answer, read with quick-xml.
mod listing {
    use quick_xml::events::Event;
    use time::OffsetDateTime;
    use time::format_description::well_known::Rfc3339;

    pub struct Page {
        /// Each object's key and when it was last written.
        pub objects: Vec<(String, Option<OffsetDateTime>)>,
        /// `NextContinuationToken`, when the listing goes on.
        pub next: Option<String>,
    }

    pub fn parse(xml: &str) -> Result<Page, quick_xml::Error> {
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut path: Vec<String> = Vec::new();
        let mut page = Page {
            objects: Vec::new(),
            next: None,
        };
        let mut text = String::new();
        loop {
            match reader.read_event()? {
                Event::Start(e) => {
                    path.push(e.local_name().as_ref().to_owned());
                    text.clear();
                    if path.last().is_some_and(|n| n == "Contents") {
                        page.objects.push((String::new(), None));
                    }
                }
                Event::Text(t) => text.push_str(&t.xml10_content()),
                Event::GeneralRef(r) => text.push_str(&format!("&{};", &*r)),
                Event::End(_) => {
                    let value = quick_xml::escape::unescape(&text)
                        .map(|v| v.into_owned())
                        .unwrap_or_default();
                    let names: Vec<&str> = path.iter().map(String::as_str).collect();
                    match names.as_slice() {
                        [_, "Contents", "Key"] => {
                            if let Some(o) = page.objects.last_mut() {
                                o.0 = value;
                            }
                        }
                        [_, "Contents", "LastModified"] => {
                            if let Some(o) = page.objects.last_mut() {
                                o.1 = OffsetDateTime::parse(value.trim(), &Rfc3339).ok();
                            }
                        }
                        [_, "NextContinuationToken"] => page.next = Some(value),
                        _ => {}
                    }
                    path.pop();
                    text.clear();
                }
                Event::Eof => return Ok(page),
                _ => {}
            }
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn a_page_of_a_listing_reads() {
            let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>b</Name><Prefix>files/</Prefix><KeyCount>2</KeyCount><IsTruncated>true</IsTruncated>
  <Contents><Key>files/ab/ab01</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>
    <Size>5</Size></Contents>
  <Contents><Key>files/x&amp;y</Key><LastModified>garbled</LastModified></Contents>
  <NextContinuationToken>1/a+b=</NextContinuationToken>
</ListBucketResult>"#;
            let page = super::parse(xml).unwrap();
            assert_eq!(page.objects.len(), 2);
            assert_eq!(page.objects[0].0, "files/ab/ab01");
            assert_eq!(
                page.objects[0].1.unwrap().unix_timestamp(),
                time::macros::datetime!(2026-01-02 03:04:05 UTC).unix_timestamp()
            );
            assert_eq!(page.objects[1], ("files/x&y".into(), None));
            assert_eq!(page.next.as_deref(), Some("1/a+b="));
        }
    }
}
