//! SAML 2.0 sign-in as a service provider (LibreChat's saml strategy), on `saml-rs`: pure Rust,
//! so the binary stays one file.
//!
//! - `/oauth/saml` sends an AuthnRequest with the HTTP-Redirect binding. The request's ID is kept
//!   here, under a random RelayState, for ten minutes and one use, bound to the browser that
//!   started it (see `sign_in_state`: the POST binding's answer is checked after a redirect).
//! - `/oauth/saml/callback` takes the IdP's HTTP-POST. The Response and/or Assertion signature is
//!   checked against `SAML_CERT`, and so are the Issuer, the status, Destination and Recipient (our
//!   callback), `InResponseTo` (the request we issued), the audience (`SAML_ISSUER`) and
//!   `NotBefore`/`NotOnOrAfter` with two minutes of clock skew. A response or assertion ID seen
//!   before is refused while it could still be valid: the IDs are recorded in the database
//!   (`used_sign_in_proofs`), so a restart does not forget them.
//! - A response the IdP sends unasked (IdP-initiated) is accepted only when
//!   `SAML_ALLOW_IDP_INITIATED` allows it (off by default: such an answer cannot be bound to a
//!   browser, so anyone holding one could sign a victim's browser into their account); it must
//!   then answer no request.
//!
//! The IdP is described by metadata made from `SAML_ENTRY_POINT` and `SAML_CERT`, so the
//! certificate is the trust anchor; requests are not signed, as LibreChat's are not.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine;
use saml_rs::{
    AcsEndpoint, AssertionSignaturePolicy, AudienceValidationPolicy, AuthnRequestSigningPolicy,
    BrowserInput, ClockSkew, EntityId, FormField, IdpDescriptor, MetadataTrustPolicy,
    NameIdCreationPolicy, NameIdFormat, PendingAuthnRequest, PendingSnapshot, RelayStateParam,
    ReplayCache, ReplayKey, ReplayPolicy, ResponseSignaturePolicy, Saml as SamlRs, SamlError,
    SamlValidationContext, Sp, SpConfig, SpValidationPolicy, SsoResponse, SsoSession, StartSso,
};

use super::external::ExternalIdentity;
use super::sign_in_state::{HeldAnswers, NotPending, PendingSignIns};
use crate::bounded::BoundedCache;
use crate::config::SamlSettings;
use crate::db::Db;
use crate::db::identities::Provider;

/// How far the IdP's clock may be from ours.
const CLOCK_SKEW_MS: i64 = 120_000;
/// The largest SAMLResponse form value taken (base64); real ones are a few kilobytes.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// The IdP entity ID used to start a request when `SAML_IDP_ISSUER` is not set (requests do
/// not carry it; responses are then checked against the Issuer they name).
const UNNAMED_IDP: &str = "urn:librechat:saml:idp";

#[derive(Debug, thiserror::Error)]
pub enum SamlSignInError {
    #[error("The sign-in expired or was not started here. Please try again.")]
    UnknownState,
    #[error("{}", super::sign_in_state::OTHER_BROWSER)]
    OtherBrowser,
    /// The shared state (Redis) cannot be reached.
    #[error("{}", super::sign_in_state::UNAVAILABLE)]
    Unavailable,
    #[error("The identity provider's answer was missing or malformed.")]
    Malformed,
    #[error("The identity provider refused the sign-in.")]
    Refused(String),
    #[error("This sign-in was already used. Please sign in again.")]
    Replayed,
    #[error("The identity provider gave no usable email address.")]
    NoEmail,
    #[error("The SAML sign-in could not be verified.")]
    Failed(String),
}

impl super::external::SignInFailure for SamlSignInError {
    fn detail(&self) -> Option<&str> {
        match self {
            Self::Failed(why) | Self::Refused(why) => Some(why),
            _ => None,
        }
    }
}

fn failed(e: SamlError) -> SamlSignInError {
    match e {
        SamlError::ReplayDetected { .. } => SamlSignInError::Replayed,
        e @ (SamlError::StatusNotSuccess { .. } | SamlError::FailedStatus { .. }) => {
            SamlSignInError::Refused(e.to_string())
        }
        e => SamlSignInError::Failed(e.to_string()),
    }
}

/// A request we sent and have not had an answer to.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Issued {
    request_id: String,
    acs: String,
}

pub struct Saml {
    pub settings: SamlSettings,
    /// The service provider for each callback address (one unless the server is reached under
    /// several names and `DOMAIN_SERVER` is unset).
    sps: BoundedCache<Arc<SamlRs<Sp>>>,
    issued: PendingSignIns<Issued>,
    /// The IdP's form posts, held for the browser's redirected GET (see `sign_in_state`).
    pub posted: HeldAnswers<SamlPost>,
}

/// What the IdP posts back (HTTP-POST binding).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SamlPost {
    #[serde(rename = "SAMLResponse")]
    pub response: Option<String>,
    #[serde(rename = "RelayState")]
    pub relay_state: Option<String>,
}

impl SamlPost {
    fn weight(&self) -> u32 {
        let len = |f: &Option<String>| f.as_ref().map_or(0, String::len);
        u32::try_from(len(&self.response) + len(&self.relay_state)).unwrap_or(u32::MAX)
    }
}

/// A verified answer: who signed in, and the IDs (with when they expire) that must not be
/// accepted again.
pub struct Verified {
    pub identity: ExternalIdentity,
    pub proofs: Vec<(String, SystemTime)>,
}

impl Saml {
    /// Checks that the settings make a working service provider and IdP description.
    pub fn new(settings: SamlSettings) -> Result<Self, String> {
        let this = Self {
            settings,
            sps: BoundedCache::builder(8).build(),
            issued: PendingSignIns::default(),
            posted: HeldAnswers::new(SamlPost::weight),
        };
        this.sp("https://librechat.invalid/oauth/saml/callback")
            .map_err(|e| format!("SAML settings: {e}"))?;
        this.idp(
            this.settings
                .idp_entity_id
                .as_deref()
                .unwrap_or(UNNAMED_IDP),
        )
        .map_err(|e| format!("SAML_CERT / SAML_ENTRY_POINT: {e}"))?;
        Ok(this)
    }

    /// Our callback address: `SAML_CALLBACK_URL`, a path taken on `origin` (`DOMAIN_SERVER`,
    /// or without it the address the browser used).
    pub fn acs_url(&self, origin: &str) -> String {
        super::external::callback_url(&self.settings.callback_url, origin)
    }

    fn sp(&self, acs: &str) -> Result<Arc<SamlRs<Sp>>, SamlError> {
        if let Some(sp) = self.sps.get(acs) {
            return Ok(sp);
        }
        let s = &self.settings;
        let policy = SpValidationPolicy {
            assertions: if s.response_signed {
                AssertionSignaturePolicy::AllowUnsignedForCompatibility
            } else {
                AssertionSignaturePolicy::RequireSigned
            },
            responses: if s.response_signed {
                ResponseSignaturePolicy::RequireSigned
            } else {
                SpValidationPolicy::recommended().responses
            },
            audience: AudienceValidationPolicy::Validate,
            authn_requests: AuthnRequestSigningPolicy::DoNotSignForCompatibility,
            // As LibreChat asks: `<NameIDPolicy Format=... AllowCreate="true"/>`.
            name_id_creation: NameIdCreationPolicy::AllowCreate,
            ..SpValidationPolicy::recommended()
        };
        // LibreChat asks for an emailAddress NameID unless told otherwise.
        let format = match &s.name_id_format {
            Some(f) => NameIdFormat::Custom(f.clone()),
            None => NameIdFormat::EmailAddress,
        };
        let config = SpConfig::builder(EntityId::try_new(s.sp_entity_id.as_str())?)
            .acs_endpoint(AcsEndpoint::post(acs)?)
            .name_id_format(format)
            .validation(policy)
            .build()?;
        let sp = Arc::new(SamlRs::sp(config)?);
        self.sps.insert(acs.to_owned(), sp.clone());
        Ok(sp)
    }

    /// The IdP as metadata made from the settings, under `entity_id`.
    fn idp(&self, entity_id: &str) -> Result<IdpDescriptor, SamlError> {
        let s = &self.settings;
        let keys: String = s
            .idp_certificates
            .iter()
            .map(|c| {
                format!(
                    r#"<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{c}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
                )
            })
            .collect();
        let xml = format!(
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{e}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">{keys}<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{l}"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
            e = xml_attr(entity_id),
            l = xml_attr(&s.entry_point),
        );
        // Made here from pinned settings, not fetched: nothing to verify.
        IdpDescriptor::from_metadata_xml_for(
            EntityId::try_new(entity_id)?,
            &xml,
            MetadataTrustPolicy::UnsignedForCompatibility,
        )
    }

    /// Our metadata (entity ID, callback, NameID format), for the IdP's administrator.
    /// Keeps sign-ins in flight and posted answers in Redis, shared with the other replicas.
    pub fn share(&self, shared: &crate::cache::shared::Shared) {
        self.issued.share(shared, "saml");
        self.posted.share(shared, "saml");
    }

    pub fn metadata(&self, acs: &str) -> Result<String, SamlSignInError> {
        self.sp(acs)
            .map(|sp| sp.metadata_xml().to_owned())
            .map_err(|e| SamlSignInError::Failed(e.to_string()))
    }

    /// Starts a sign-in in `browser` (its id): the IdP's address with the AuthnRequest.
    pub async fn start(&self, acs: &str, browser: &str) -> Result<String, SamlSignInError> {
        let sp = self.sp(acs).map_err(failed)?;
        let idp = self
            .idp(
                self.settings
                    .idp_entity_id
                    .as_deref()
                    .unwrap_or(UNNAMED_IDP),
            )
            .map_err(failed)?;
        let relay = random();
        let relay_param = RelayStateParam::try_from_option(Some(relay.clone())).map_err(failed)?;
        let started = sp
            .start_sso(&idp, StartSso::redirect().relay_state(relay_param))
            .map_err(failed)?;
        let url = started.outbound.redirect_url().map_err(failed)?.to_owned();
        self.issued
            .insert(
                relay,
                browser,
                Issued {
                    request_id: started.pending.request_id().as_str().to_owned(),
                    acs: acs.to_owned(),
                },
            )
            .await
            .map_err(|_| SamlSignInError::Unavailable)?;
        Ok(url)
    }

    /// Finishes a sign-in from the IdP's form ([`Self::verify`], off the async workers), then
    /// records its IDs as used: an answer already used is refused.
    pub async fn finish(
        self: Arc<Self>,
        db: &Db,
        acs: String,
        response: String,
        relay_state: Option<String>,
        browser: Option<String>,
    ) -> Result<ExternalIdentity, SamlSignInError> {
        if response.is_empty() || response.len() > MAX_RESPONSE_BYTES {
            return Err(SamlSignInError::Malformed);
        }
        // A RelayState of ours must come back in the browser that started the sign-in; any
        // other is not ours (an IdP portal's own value).
        let issued = match &relay_state {
            None => None,
            Some(r) => match self.issued.take(r, browser.as_deref()).await {
                Ok(issued) => Some(issued),
                Err(NotPending::OtherBrowser) => return Err(SamlSignInError::OtherBrowser),
                Err(NotPending::Unavailable) => return Err(SamlSignInError::Unavailable),
                Err(NotPending::Unknown) => None,
            },
        };
        let verified = tokio::task::spawn_blocking(move || {
            self.verify(&acs, &response, relay_state.as_deref(), issued)
        })
        .await
        .map_err(|e| SamlSignInError::Failed(format!("the check stopped: {e}")))??;
        // Rounded up: a proof is remembered at least as long as it is valid.
        let unix = |t: SystemTime| {
            t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| {
                let up = u64::from(d.subsec_nanos() > 0);
                i64::try_from(d.as_secs() + up).unwrap_or(i64::MAX)
            })
        };
        let keys: Vec<(String, i64)> = verified
            .proofs
            .iter()
            .map(|(k, t)| (format!("saml:{k}"), unix(*t)))
            .collect();
        let now = unix(SystemTime::now());
        let fresh = db
            .write(move |conn| crate::db::used_proofs::record(conn, &keys, now))
            .await
            .map_err(|e| SamlSignInError::Failed(format!("recording the sign-in: {e}")))?;
        if !fresh {
            return Err(SamlSignInError::Replayed);
        }
        Ok(verified.identity)
    }

    /// Checks the IdP's form: `SAMLResponse` and, for a sign-in we started (`issued`, taken
    /// from its `RelayState` by the browser that started it), `RelayState`. CPU work (XML and
    /// signatures).
    fn verify(
        &self,
        acs: &str,
        response: &str,
        relay_state: Option<&str>,
        issued: Option<Issued>,
    ) -> Result<Verified, SamlSignInError> {
        if response.is_empty() || response.len() > MAX_RESPONSE_BYTES {
            return Err(SamlSignInError::Malformed);
        }
        let idp_id = match &self.settings.idp_entity_id {
            Some(id) => id.clone(),
            None => response_issuer(response).ok_or(SamlSignInError::Malformed)?,
        };
        let idp = self.idp(&idp_id).map_err(failed)?;
        let mut fields = vec![FormField::new("SAMLResponse", response)];
        // A RelayState of ours goes with the answer to be checked; any other (an IdP portal's
        // own, which may be a long URL) means nothing here and is left out.
        if let (Some(r), Some(_)) = (relay_state, &issued) {
            fields.push(FormField::new("RelayState", r));
        }
        let input = BrowserInput::<SsoResponse>::post(fields);
        let mut proofs = Proofs::default();
        let validation =
            SamlValidationContext::new(SystemTime::now(), ReplayPolicy::RequireCache(&mut proofs))
                .with_clock_skew(ClockSkew::from_millis(-CLOCK_SKEW_MS, CLOCK_SKEW_MS))
                .with_replay_retention(Duration::from_secs(600));
        let session = match issued {
            Some(issued) => {
                let sp = self.sp(&issued.acs).map_err(failed)?;
                let relay = RelayStateParam::try_from_option(relay_state.map(str::to_owned))
                    .map_err(failed)?;
                let pending = PendingAuthnRequest::from_snapshot(PendingSnapshot::authn_request(
                    issued.request_id,
                    relay,
                    idp_id,
                    "post",
                    issued.acs.clone(),
                    "post",
                ))
                .map_err(failed)?;
                sp.finish_sso(&idp, &pending, input, validation)
                    .map_err(failed)
            }
            None if self.settings.allow_idp_initiated => {
                let sp = self.sp(acs).map_err(failed)?;
                sp.accept_unsolicited_sso(&idp, input, validation)
                    .map_err(|e| match e {
                        // An answer to a request we no longer hold: expired, or used.
                        SamlError::InResponseToMismatch { expected: None, .. } => {
                            SamlSignInError::UnknownState
                        }
                        e => failed(e),
                    })
            }
            None => return Err(SamlSignInError::UnknownState),
        }?;
        Ok(Verified {
            identity: self.identity(&session)?,
            proofs: proofs.0,
        })
    }

    /// Who signed in, from the verified assertion: the NameID is the subject; the profile comes
    /// from the attributes the `SAML_*_CLAIM` settings name (with the usual names as fallback).
    fn identity(&self, session: &SsoSession) -> Result<ExternalIdentity, SamlSignInError> {
        let c = &self.settings.claims;
        let attrs = session.attributes();
        let first = |names: &[&str]| {
            names.iter().find_map(|n| {
                attrs
                    .get(n)
                    .and_then(|a| {
                        a.values()
                            .iter()
                            .map(|v| v.as_str().trim())
                            .find(|v| !v.is_empty())
                    })
                    .map(str::to_owned)
            })
        };
        let name_id = session.name_id();
        let name_id_email = (name_id.format() == Some(&NameIdFormat::EmailAddress))
            .then(|| name_id.value().to_owned());
        let email = first(&[
            &c.email,
            "email",
            "mail",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
            "urn:oid:0.9.2342.19200300.100.1.3",
        ])
        .or(name_id_email)
        .ok_or(SamlSignInError::NoEmail)?;
        let given = first(&[&c.given_name, "givenName", "urn:oid:2.5.4.42"]);
        let family = first(&[&c.family_name, "sn", "surname", "urn:oid:2.5.4.4"]);
        let username = first(&[&c.username, "uid"])
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_owned());
        let joined = [given, family]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let name = match &c.name {
            Some(claim) => first(&[claim]),
            None => None,
        }
        .or_else(|| (!joined.is_empty()).then_some(joined))
        .or_else(|| first(&["displayName", "cn"]))
        .unwrap_or_else(|| username.clone());
        let avatar =
            first(&[&c.picture]).filter(|p| p.starts_with("https://") || p.starts_with("http://"));
        // A transient NameID changes at every sign-in: it names no one, so the address the IdP
        // vouches for is the subject then.
        let subject = if name_id.format() == Some(&NameIdFormat::Transient) {
            email.clone()
        } else {
            name_id.value().to_owned()
        };
        Ok(ExternalIdentity {
            provider: Provider::Saml,
            subject,
            email,
            // LibreChat takes the IdP's word for the address.
            email_verified: true,
            name,
            username,
            avatar,
            admin: None,
            groups: None,
        })
    }
}

fn random() -> String {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).expect("the system's random source works");
    hex::encode(b)
}

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The Issuer a (not yet verified) Response names: the `<Issuer>` child of its root, or (an IdP
/// may leave that out) of its first assertion. Only used to pick the entity ID to check the
/// response against; the signature by `SAML_CERT` decides.
fn response_issuer(response: &str) -> Option<String> {
    use quick_xml::events::Event;
    let compact: String = response.split_whitespace().collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    let xml = String::from_utf8(bytes).ok()?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut depth = 0usize;
    // Whether the root's child being read is an Assertion.
    let mut in_assertion = false;
    // The Issuer's text as written (escaped), while inside it.
    let mut issuer: Option<String> = None;
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) => {
                depth += 1;
                let name = e.local_name();
                if depth == 2 {
                    in_assertion = name.as_ref() == "Assertion";
                }
                if name.as_ref() == "Issuer" && (depth == 2 || (depth == 3 && in_assertion)) {
                    issuer = Some(String::new());
                }
            }
            Event::Text(t) => {
                if let Some(text) = issuer.as_mut() {
                    text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(text) = issuer.as_mut() {
                    text.push_str(&format!("&{};", &*r));
                }
            }
            Event::End(_) => {
                if let Some(text) = issuer.take() {
                    let text = quick_xml::escape::unescape(&text).ok()?.trim().to_owned();
                    return (!text.is_empty()).then_some(text);
                }
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return None;
                }
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// The IDs the SAML layer asks to be remembered, collected to be recorded once the answer is
/// fully checked (see [`Saml::finish`]); an ID twice in one answer is already a replay.
#[derive(Default)]
struct Proofs(Vec<(String, SystemTime)>);

impl ReplayCache for Proofs {
    fn check_and_store(&mut self, key: ReplayKey, expires_at: SystemTime) -> Result<(), SamlError> {
        let key = key.cache_key();
        if self.0.iter().any(|(k, _)| *k == key) {
            return Err(SamlError::ReplayDetected { key });
        }
        self.0.push((key, expires_at));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_is_read_from_the_root_only() {
        let xml = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><saml:Issuer>https://idp.example.org/&amp;x</saml:Issuer><saml:Assertion><saml:Issuer>other</saml:Issuer></saml:Assertion></samlp:Response>"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(xml);
        assert_eq!(
            response_issuer(&b64).as_deref(),
            Some("https://idp.example.org/&x")
        );
        let in_assertion = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><samlp:Status/><saml:Assertion><saml:Issuer>inner</saml:Issuer></saml:Assertion></samlp:Response>"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(in_assertion);
        assert_eq!(response_issuer(&b64).as_deref(), Some("inner"));
        let deeper = r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><samlp:Extensions><saml:Issuer>hidden</saml:Issuer></samlp:Extensions></samlp:Response>"#;
        let b64 = base64::engine::general_purpose::STANDARD.encode(deeper);
        assert_eq!(
            response_issuer(&b64),
            None,
            "only the root's or an assertion's Issuer"
        );
        assert_eq!(response_issuer("%%%not base64"), None);
        assert_eq!(response_issuer("PGE+"), None, "<a> has no issuer");
    }

    #[test]
    fn one_answer_may_not_name_an_id_twice() {
        let mut proofs = Proofs::default();
        let later = SystemTime::now() + Duration::from_secs(60);
        let id = |s: &str| ReplayKey::ResponseId(saml_rs::MessageId::try_new(s).unwrap());
        proofs.check_and_store(id("_r1"), later).unwrap();
        assert!(matches!(
            proofs.check_and_store(id("_r1"), later),
            Err(SamlError::ReplayDetected { .. })
        ));
        proofs.check_and_store(id("_r2"), later).unwrap();
        assert_eq!(proofs.0.len(), 2);
    }
}
