//! PostgreSQL over TLS, with the rustls (aws-lc) stack the rest of the server already uses,
//! chosen by the `sslmode` of `DATABASE_URL` as libpq names it:
//!
//! - absent, `disable`, `allow`, `prefer`: no TLS (a private network or a local socket);
//! - `require`, `verify-ca`, `verify-full`: TLS, and the server's certificate is always
//!   verified, host name included: against the CA file in `sslrootcert` when given, else the
//!   system's roots. (libpq's `require` skips verification without a root file; a database
//!   password sent to an unverified server is not "secure by default", so here it does not.)
//!
//! The two settings are taken out of the URL before the driver reads it: it knows neither
//! `sslrootcert` nor the `verify-*` modes. Written here rather than taken from a crate because
//! the driver's TLS hook is four small traits, and the crates that fill them bring a second
//! crypto library (ring) into the binary.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// How a connection is secured, from the URL's `sslmode` and `sslrootcert`.
pub enum Tls {
    Off,
    /// TLS, verified against this CA file, or the system's roots.
    Verified {
        ca_file: Option<String>,
    },
}

/// Splits `DATABASE_URL` into what the driver reads and how to secure the connection: the
/// URL loses its `sslmode` and `sslrootcert` (and gets `sslmode=require` when TLS is on); the
/// rest of it is left byte for byte as written (the driver decodes its parameters itself). A
/// URL that is not `postgres://`/`postgresql://` goes through as given (the settings refuse
/// those before they get here).
pub fn split(url: &str) -> Result<(String, Tls), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Ok((url.to_owned(), Tls::Off));
    }
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), Tls::Off));
    };
    let decode = |s: &str| -> String {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let mut mode = None;
    let mut ca_file = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = Some(decode(value)),
            "sslrootcert" => ca_file = Some(decode(value)),
            _ => kept.push(pair),
        }
    }
    let tls = match mode.as_deref() {
        None | Some("disable" | "allow" | "prefer") => Tls::Off,
        Some("require" | "verify-ca" | "verify-full") => Tls::Verified { ca_file },
        Some(other) => {
            return Err(format!(
                "DATABASE_URL: sslmode={other} is not one of disable, allow, prefer, require, \
                 verify-ca, verify-full"
            ));
        }
    };
    if let Tls::Verified { .. } = tls {
        kept.push("sslmode=require");
    }
    Ok(if kept.is_empty() {
        (base.to_owned(), tls)
    } else {
        (format!("{base}?{}", kept.join("&")), tls)
    })
}

/// The rustls settings for `ca_file` (PEM), or the system's roots.
pub fn client_config(ca_file: Option<&str>) -> Result<Arc<rustls::ClientConfig>, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match ca_file {
        Some(path) => {
            use rustls::pki_types::CertificateDer;
            use rustls::pki_types::pem::PemObject;
            let pem = std::fs::read(path)
                .map_err(|e| format!("DATABASE_URL: cannot read sslrootcert {path}: {e}"))?;
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem) {
                let cert = cert.map_err(|e| format!("{path}: not a PEM certificate ({e})"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{path}: unusable certificate ({e})"))?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            use rustls_platform_verifier::BuilderVerifierExt;
            builder
                .with_platform_verifier()
                .map_err(|e| e.to_string())?
                .with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

/// The driver's TLS hook: makes one [`Connect`] per host.
#[derive(Clone)]
pub struct MakeRustls(pub Arc<rustls::ClientConfig>);

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Connect;
    type Error = rustls::pki_types::InvalidDnsNameError;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Connect, Self::Error> {
        Ok(Connect {
            config: self.0.clone(),
            name: ServerName::try_from(domain.to_owned())?,
        })
    }
}

/// The handshake with one host.
pub struct Connect {
    config: Arc<rustls::ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for Connect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let connector = tokio_rustls::TlsConnector::from(self.config);
            Ok(Stream(connector.connect(self.name, stream).await?))
        })
    }
}

/// A TLS session to the server.
pub struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for Stream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Stream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for Stream<S> {
    /// No channel binding: SCRAM-SHA-256 without `-PLUS` (the certificate is verified instead).
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_settings_leave_the_url() {
        let (url, tls) = split(
            "postgres://u:p@db.example:5432/chat?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=x",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u:p@db.example:5432/chat?application_name=x&sslmode=require"
        );
        assert!(matches!(tls, Tls::Verified { ca_file: Some(f) } if f == "/etc/ca.pem"));
        let (url, tls) = split("postgres://u@h/db").unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert!(matches!(tls, Tls::Off));
        let (_, tls) = split("postgresql://u@h/db?sslmode=require").unwrap();
        assert!(matches!(tls, Tls::Verified { ca_file: None }));
        let (url, tls) = split("postgres://u@h/db?sslmode=prefer").unwrap();
        assert_eq!(url, "postgres://u@h/db");
        assert!(matches!(tls, Tls::Off));
        let bad = split("postgres://u@h/db?sslmode=sometimes").err().unwrap();
        assert!(bad.contains("sslmode=sometimes"), "{bad}");
        assert!(matches!(split("host=h user=u").unwrap().1, Tls::Off));
        // The rest is left as written: the driver decodes `%20` but not `+`.
        let (url, _) = split(
            "postgres://u@h/db?options=-c%20statement_timeout%3D5000&sslmode=verify-ca&sslrootcert=%2Fetc%2Fca%20x.pem",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u@h/db?options=-c%20statement_timeout%3D5000&sslmode=require"
        );
        let (url, tls) = split("postgres://u@h/db?options=-c%20a%3Db").unwrap();
        assert_eq!(url, "postgres://u@h/db?options=-c%20a%3Db");
        assert!(matches!(tls, Tls::Off));
    }
}
