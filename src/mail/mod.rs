//! Outgoing mail over SMTP (lettre): account verification, password reset and its
//! confirmation, invitations. The templates are plain text and simple HTML, embedded.

mod templates;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use templates::Template;

use crate::config::{EmailSettings, Encryption};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid email settings: {0}")]
    Config(String),
    #[error("cannot send mail: {0}")]
    Send(String),
}

/// Sends the app's emails. Cheap to clone; connections are pooled.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    app_title: String,
}

impl Mailer {
    pub fn new(s: &EmailSettings, app_title: &str) -> Result<Self, MailError> {
        let tls_name = s.tls_hostname.clone().unwrap_or_else(|| s.host.clone());
        let params = || {
            TlsParameters::builder(tls_name.clone())
                .dangerous_accept_invalid_certs(s.allow_self_signed)
                .build_rustls()
                .map_err(|e| MailError::Config(e.to_string()))
        };
        let tls = match s.encryption {
            Encryption::Tls => Tls::Wrapper(params()?),
            Encryption::Starttls => Tls::Required(params()?),
            Encryption::Opportunistic => Tls::Opportunistic(params()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .tls(tls)
            .timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(user), Some(pass)) = (&s.username, &s.password) {
            builder = builder.credentials(Credentials::new(user.clone(), pass.expose().to_owned()));
        }
        let from = Mailbox::new(
            Some(s.from_name.clone()),
            s.from
                .parse()
                .map_err(|e| MailError::Config(format!("EMAIL_FROM: {e}")))?,
        );
        Ok(Self {
            transport: builder.build(),
            from,
            app_title: app_title.to_owned(),
        })
    }

    /// For `librechat doctor`: connects to the mail server, says hello and logs in (with TLS
    /// as configured), sending nothing.
    pub async fn check(&self) -> Result<(), String> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err("the mail server did not accept the connection".into()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Renders `template` with `values` and sends it to `to`.
    pub async fn send(
        &self,
        to: &str,
        name: &str,
        template: Template,
        values: &[(&str, &str)],
    ) -> Result<(), MailError> {
        let mut all: Vec<(&str, &str)> = vec![("app", self.app_title.as_str()), ("name", name)];
        all.extend_from_slice(values);
        let (subject, text, html) = template.render(&all);
        let to_box = Mailbox::new(
            (!name.is_empty()).then(|| name.to_owned()),
            to.parse()
                .map_err(|e| MailError::Send(format!("bad recipient: {e}")))?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to_box)
            .subject(subject)
            .multipart(MultiPart::alternative_plain_html(text, html))
            .map_err(|e| MailError::Send(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map_err(|e| MailError::Send(e.to_string()))?;
        tracing::info!(template = template.name(), "email sent");
        Ok(())
    }
}
