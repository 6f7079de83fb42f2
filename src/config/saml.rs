//! SAML 2.0 sign-in settings, from LibreChat's environment names. SAML is on when
//! `SAML_ENTRY_POINT` (the IdP's single sign-on URL), `SAML_ISSUER` (our entity ID),
//! `SAML_CERT` (the IdP's signing certificate) and `SAML_SESSION_SECRET` are all set, and
//! OpenID Connect is not configured (LibreChat offers one or the other). The button's
//! `SAML_BUTTON_LABEL` and `SAML_IMAGE_URL` are read with the other login buttons
//! (`LoginProviders`).
//!
//! `SAML_SESSION_SECRET` is required only so that an existing `.env` means the same here: sign-ins
//! in progress are kept on the server, so no session cookie needs signing.

use serde::Serialize;

use super::{ConfigError, Env};

/// Which attribute holds each part of the profile (`SAML_*_CLAIM`).
#[derive(Debug, Clone, Serialize)]
pub struct SamlClaims {
    /// `SAML_EMAIL_CLAIM` (default `email`).
    pub email: String,
    /// `SAML_USERNAME_CLAIM` (default `username`).
    pub username: String,
    /// `SAML_GIVEN_NAME_CLAIM` (default `given_name`).
    pub given_name: String,
    /// `SAML_FAMILY_NAME_CLAIM` (default `family_name`).
    pub family_name: String,
    /// `SAML_PICTURE_CLAIM` (default `picture`).
    pub picture: String,
    /// `SAML_NAME_CLAIM`: the full name; without it, given and family name are joined.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SamlSettings {
    /// `SAML_ENTRY_POINT`: where the browser is sent with the AuthnRequest.
    pub entry_point: String,
    /// `SAML_ISSUER`: our entity ID, the audience assertions must name.
    pub sp_entity_id: String,
    /// `SAML_IDP_ISSUER`: the IdP's entity ID. Without it, the Issuer the response names is
    /// taken, as LibreChat does; the certificate is what is trusted either way.
    pub idp_entity_id: Option<String>,
    /// `SAML_CERT`: the IdP's signing certificates (base64 DER), from PEM text, bare base64 or
    /// a file holding either. Several certificates (a PEM file with more than one) are all
    /// trusted, for a key rollover.
    pub idp_certificates: Vec<String>,
    /// `SAML_CALLBACK_URL` (default `/oauth/saml/callback`): the assertion consumer service;
    /// a path is taken on `DOMAIN_SERVER`, or on the address the browser used.
    pub callback_url: String,
    /// `SAML_USE_AUTHN_RESPONSE_SIGNED`: the Response must be signed (the assertion then need
    /// not be). Otherwise (the default) the assertion must carry its own signature.
    pub response_signed: bool,
    /// `SAML_NAME_ID_FORMAT`: the NameID format asked for (default: none named).
    pub name_id_format: Option<String>,
    /// `SAML_ALLOW_IDP_INITIATED` (ours, default false): accept a sign-in the IdP starts (an
    /// unsolicited response). Such an answer cannot be tied to the browser that brings it, so
    /// anyone holding one for their own account could sign someone else's browser into it
    /// (login CSRF); turn it on only for an IdP portal you need. Responses to our own requests
    /// are always checked against them.
    pub allow_idp_initiated: bool,
    pub claims: SamlClaims,
}

/// The NameID formats LibreChat names, by their short names or full URIs.
const NAME_ID_FORMATS: [&str; 5] = [
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
    "urn:oasis:names:tc:SAML:2.0:nameid-format:entity",
];

impl SamlSettings {
    pub fn from_env(env: &Env) -> Result<Option<Self>, ConfigError> {
        let get = |k: &str| env.string(k);
        let (Some(entry_point), Some(sp_entity_id), Some(cert), Some(_)) = (
            get("SAML_ENTRY_POINT"),
            get("SAML_ISSUER"),
            get("SAML_CERT"),
            get("SAML_SESSION_SECRET"),
        ) else {
            return Ok(None);
        };
        match url::Url::parse(&entry_point) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(ConfigError::invalid(
                    "SAML_ENTRY_POINT",
                    &entry_point,
                    "the IdP's http(s) single sign-on URL",
                ));
            }
        }
        let idp_certificates = certificates(&cert)?;
        let name_id_format = match get("SAML_NAME_ID_FORMAT") {
            None => None,
            Some(f) => Some(
                NAME_ID_FORMATS
                    .iter()
                    .find(|u| **u == f || u.rsplit(':').next() == Some(f.as_str()))
                    .map(|u| (*u).to_owned())
                    .ok_or_else(|| {
                        ConfigError::invalid(
                            "SAML_NAME_ID_FORMAT",
                            &f,
                            "emailAddress, persistent, transient, unspecified or entity (or the full URN)",
                        )
                    })?,
            ),
        };
        let claim = |k: &str, default: &str| get(k).unwrap_or_else(|| default.to_owned());
        let settings = Self {
            entry_point,
            sp_entity_id,
            idp_entity_id: get("SAML_IDP_ISSUER"),
            idp_certificates,
            callback_url: get("SAML_CALLBACK_URL").unwrap_or_else(|| "/oauth/saml/callback".into()),
            response_signed: env.bool("SAML_USE_AUTHN_RESPONSE_SIGNED")?.unwrap_or(false),
            name_id_format,
            allow_idp_initiated: env.bool("SAML_ALLOW_IDP_INITIATED")?.unwrap_or(false),
            claims: SamlClaims {
                email: claim("SAML_EMAIL_CLAIM", "email"),
                username: claim("SAML_USERNAME_CLAIM", "username"),
                given_name: claim("SAML_GIVEN_NAME_CLAIM", "given_name"),
                family_name: claim("SAML_FAMILY_NAME_CLAIM", "family_name"),
                picture: claim("SAML_PICTURE_CLAIM", "picture"),
                name: get("SAML_NAME_CLAIM"),
            },
        };
        // Builds the service provider and the IdP description once, so that a certificate
        // the SAML layer cannot use stops the start, naming the setting.
        crate::auth::saml::Saml::new(settings.clone()).map_err(ConfigError::Other)?;
        Ok(Some(settings))
    }
}

/// The certificates in `SAML_CERT`: PEM text (newlines may be written `\n`, as in a `.env`),
/// the bare base64 of one certificate, or the path of a file holding either.
fn certificates(value: &str) -> Result<Vec<String>, ConfigError> {
    let inline = value.contains("-----BEGIN") || looks_like_base64(value);
    let text = if inline {
        value.replace("\\n", "\n")
    } else {
        std::fs::read_to_string(value).map_err(|_| {
            ConfigError::invalid(
                "SAML_CERT",
                value,
                "the IdP's certificate: PEM text, base64, or a readable file holding either",
            )
        })?
    };
    let bad = |why: &str| {
        ConfigError::invalid(
            "SAML_CERT",
            &value.chars().take(60).collect::<String>(),
            &format!("the IdP's X.509 certificate ({why})"),
        )
    };
    let bodies: Vec<String> = if text.contains("-----BEGIN") {
        let mut out = Vec::new();
        let mut current: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.starts_with("-----BEGIN CERTIFICATE") {
                current = Some(String::new());
            } else if line.starts_with("-----END CERTIFICATE") {
                out.extend(current.take());
            } else if let Some(c) = current.as_mut() {
                c.push_str(line);
            }
        }
        out
    } else {
        vec![text.split_whitespace().collect()]
    };
    if bodies.is_empty() {
        return Err(bad("no CERTIFICATE block found"));
    }
    for body in &bodies {
        use base64::Engine;
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| bad("not valid base64"))?;
        use x509_cert::der::Decode;
        x509_cert::Certificate::from_der(&der).map_err(|_| bad("not a DER certificate"))?;
    }
    Ok(bodies)
}

fn looks_like_base64(s: &str) -> bool {
    let s = s.trim();
    s.len() > 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '\n' | '\r' | ' '))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    const BASE: [(&str, &str); 3] = [
        ("SAML_ENTRY_POINT", "https://idp.example.org/sso"),
        ("SAML_ISSUER", "librechat"),
        ("SAML_SESSION_SECRET", "s"),
    ];

    fn with_cert(cert: &str) -> Result<Option<SamlSettings>, ConfigError> {
        let mut pairs = BASE.to_vec();
        pairs.push(("SAML_CERT", cert));
        SamlSettings::from_env(&env(&pairs))
    }

    /// A throwaway self-signed certificate (P-256, CN=unit-test-idp).
    fn fake_der_b64() -> String {
        "MIIBiDCCAS2gAwIBAgIUNk0DGkoN/ttaBzKtDJ16IdlaVPowCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNdW5pdC10ZXN0LWlkcDAgFw0yNjExMjYwNDAxNDFaGA8yMTI2MTEwMjA0MDE0MVowGDEWMBQGA1UEAwwNdW5pdC10ZXN0LWlkcDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFKQpVzGZWOSIJZnT5Aq9PjE+NNqysQ8DYfZ1nr13jHXjyDlhX85qHFdo+FlOFkUvdprIFGuGlTpIXmz4ZARVdKjUzBRMB0GA1UdDgQWBBRhyq63CgtvCD3p7l6vYjUMDaHrxjAfBgNVHSMEGDAWgBRhyq63CgtvCD3p7l6vYjUMDaHrxjAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDBS1UUDVUmxEv54Rh+LHJ9D72QAJ8C8Qp1yFPxxdjWgwIhANCep5FMvLO2WjuL5I3cSmz1TS2z9JSpp9QXaAk0wH08".into()
    }

    #[test]
    fn off_unless_all_four_are_set() {
        assert!(SamlSettings::from_env(&env(&BASE)).unwrap().is_none());
    }

    #[test]
    fn certificate_as_pem_escaped_pem_base64_or_file() {
        let b64 = fake_der_b64();
        let pem = format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
        let from_pem = with_cert(&pem).unwrap().unwrap();
        assert_eq!(from_pem.idp_certificates, vec![b64.clone()]);
        let escaped = pem.replace('\n', "\\n");
        assert_eq!(
            with_cert(&escaped).unwrap().unwrap().idp_certificates,
            vec![b64.clone()]
        );
        assert_eq!(
            with_cert(&b64).unwrap().unwrap().idp_certificates,
            vec![b64.clone()]
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idp.pem");
        std::fs::write(&path, format!("{pem}{pem}")).unwrap();
        let two = with_cert(path.to_str().unwrap()).unwrap().unwrap();
        assert_eq!(
            two.idp_certificates.len(),
            2,
            "both certificates of a rollover are kept"
        );
    }

    #[test]
    fn a_bad_certificate_or_entry_point_is_refused_by_name() {
        let not_a_certificate = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----",
            &fake_der_b64()[..40]
        );
        for bad in [
            "/no/such/file.pem",
            "-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----",
            &not_a_certificate,
        ] {
            let err = with_cert(bad).unwrap_err().to_string();
            assert!(err.contains("SAML_CERT"), "{err}");
        }
        let mut pairs = BASE.to_vec();
        let cert = fake_der_b64();
        pairs.push(("SAML_CERT", &cert));
        pairs[0] = ("SAML_ENTRY_POINT", "javascript:alert(1)");
        let err = SamlSettings::from_env(&env(&pairs))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SAML_ENTRY_POINT"), "{err}");
    }

    #[test]
    fn name_id_format_by_short_name() {
        let cert = fake_der_b64();
        let mut pairs = BASE.to_vec();
        pairs.push(("SAML_CERT", &cert));
        pairs.push(("SAML_NAME_ID_FORMAT", "persistent"));
        let s = SamlSettings::from_env(&env(&pairs)).unwrap().unwrap();
        assert_eq!(
            s.name_id_format.as_deref(),
            Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent")
        );
        pairs.pop();
        pairs.push(("SAML_NAME_ID_FORMAT", "bogus"));
        assert!(SamlSettings::from_env(&env(&pairs)).is_err());
    }
}
