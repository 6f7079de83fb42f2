//! Uploads: librechat.yaml's `fileConfig` merged over this server's defaults, as LibreChat's
//! `mergeFileConfig` merges it (sizes written in MB, kept here in bytes), plus our per-user
//! quota (`FILE_USER_QUOTA_MB`, off by default).
//!
//! The defaults are LibreChat's (10 files of up to 512 MB per message) except the types: only
//! those this server can read are accepted (images, text, code and documents, see [`DEFAULT_TYPES`]), so
//! a person is told at upload that a video cannot be used, not after.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ConfigError, Env};

const MB: u64 = 1024 * 1024;

/// The types accepted when `fileConfig` names none, as LibreChat's patterns: images for vision
/// models; text, code and structured text, and PDF, Word, Excel and OpenDocument files, read
/// for the model as text.
pub const DEFAULT_TYPES: &[&str] = &[
    r"^image/(jpeg|gif|png|webp)$",
    r"^text/(plain|markdown|x-markdown|csv|tab-separated-values|html|xml|css|javascript|calendar|vtt|x-c|x-c\+\+|x-csharp|x-h|x-java|x-php|x-python|x-script\.python|x-ruby|x-tex|x-sh|x-rust|x-go|x-yaml|x-toml)$",
    r"^application/(json|xml|yaml|x-yaml|sql|typescript|javascript|x-sh|csv|toml|x-ndjson)$",
    r"^application/(pdf|vnd\.openxmlformats-officedocument\.(wordprocessingml\.document|spreadsheetml\.sheet)|vnd\.oasis\.opendocument\.(text|spreadsheet))$",
];

/// One endpoint's upload limits, merged.
#[derive(Debug, Clone)]
pub struct EndpointFiles {
    pub disabled: bool,
    /// Files per message.
    pub file_limit: u32,
    /// Bytes per file.
    pub file_size_limit: u64,
    /// Bytes of all files of one message.
    pub total_size_limit: u64,
    /// Media types accepted (LibreChat's patterns).
    pub supported: Vec<Regex>,
    /// The patterns as written, for the client.
    patterns: Vec<String>,
}

impl EndpointFiles {
    /// Whether `mime` may be uploaded here.
    pub fn accepts(&self, mime: &str) -> bool {
        !self.disabled && self.supported.iter().any(|r| r.is_match(mime))
    }

    fn defaults() -> Self {
        let patterns: Vec<String> = DEFAULT_TYPES.iter().map(|s| s.to_string()).collect();
        EndpointFiles {
            disabled: false,
            file_limit: 10,
            file_size_limit: 512 * MB,
            total_size_limit: 512 * MB,
            supported: patterns
                .iter()
                .map(|p| Regex::new(p).expect("valid pattern"))
                .collect(),
            patterns,
        }
    }

    /// As librechat.yaml writes it (sizes in MB), for `GET /api/files/config`.
    fn as_yaml(&self) -> Value {
        json!({
            "disabled": self.disabled,
            "fileLimit": self.file_limit,
            "fileSizeLimit": self.file_size_limit as f64 / MB as f64,
            "totalSizeLimit": self.total_size_limit as f64 / MB as f64,
            "supportedMimeTypes": self.patterns,
        })
    }
}

/// The merged upload settings.
#[derive(Debug, Clone)]
pub struct FileSettings {
    /// Per endpoint name; `default` for the others.
    endpoints: BTreeMap<String, EndpointFiles>,
    /// Bytes any one upload may have (`serverFileSizeLimit`, 512 MB).
    pub server_file_size_limit: u64,
    /// Bytes of an avatar (`avatarSizeLimit`, 2 MB).
    pub avatar_size_limit: u64,
    /// Tokens of a document's text given to the model (`fileTokenLimit`, 100,000).
    pub file_token_limit: u64,
    /// `clientImageResize`, passed to the client as written.
    client_image_resize: Option<Value>,
    /// Bytes all of one person's files may take (ours: `FILE_USER_QUOTA_MB`); `None`: no limit.
    pub user_quota: Option<u64>,
    /// How stored images are written: librechat.yaml's `imageOutputType`, `png` (the
    /// default), `jpeg` or `webp`.
    pub image_output_type: String,
    /// The program run to read documents (`librechat read-document`); `None`: this very
    /// executable. Only the tests set it, as they run the server inside the test program.
    pub document_reader: Option<std::path::PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Written {
    #[serde(default)]
    endpoints: BTreeMap<String, WrittenEndpoint>,
    server_file_size_limit: Option<f64>,
    avatar_size_limit: Option<f64>,
    file_token_limit: Option<u64>,
    client_image_resize: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct WrittenEndpoint {
    disabled: Option<bool>,
    file_limit: Option<u32>,
    file_size_limit: Option<f64>,
    total_size_limit: Option<f64>,
    supported_mime_types: Option<Vec<String>>,
}

fn bytes(key: &str, mb: f64) -> Result<u64, ConfigError> {
    if !mb.is_finite() || !(0.0..=1024.0 * 1024.0).contains(&mb) {
        return Err(ConfigError::invalid(
            key,
            &mb.to_string(),
            "a size in MB between 0 and 1048576",
        ));
    }
    Ok((mb * MB as f64) as u64)
}

impl FileSettings {
    /// From librechat.yaml's `fileConfig` and `imageOutputType`, and the environment.
    pub fn load(
        env: &Env,
        file_config: Option<&Value>,
        image_output_type: Option<&Value>,
    ) -> Result<Self, ConfigError> {
        let image_output_type = match image_output_type {
            None | Some(Value::Null) => "png".to_owned(),
            Some(Value::String(s)) if matches!(s.as_str(), "png" | "jpeg" | "webp") => s.clone(),
            Some(other) => {
                return Err(ConfigError::invalid(
                    "imageOutputType",
                    &other.to_string(),
                    "png, jpeg or webp",
                ));
            }
        };
        let written: Written = match file_config {
            None | Some(Value::Null) => Written::default(),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|e| ConfigError::invalid("fileConfig", &v.to_string(), &e.to_string()))?,
        };
        let mut endpoints = BTreeMap::new();
        endpoints.insert("default".to_owned(), EndpointFiles::defaults());
        // `default` first, so that the other endpoints start from it.
        let mut names: Vec<&String> = written.endpoints.keys().collect();
        names.sort_by_key(|n| *n != "default");
        for name in names {
            let w = &written.endpoints[name];
            let key = |field: &str| format!("fileConfig.endpoints.{name}.{field}");
            let mut e = endpoints
                .get("default")
                .cloned()
                .unwrap_or_else(EndpointFiles::defaults);
            if w.disabled == Some(true) {
                e = EndpointFiles {
                    disabled: true,
                    file_limit: 0,
                    file_size_limit: 0,
                    total_size_limit: 0,
                    supported: Vec::new(),
                    patterns: Vec::new(),
                };
                endpoints.insert(name.clone(), e);
                continue;
            }
            if let Some(n) = w.file_limit {
                e.file_limit = n;
            }
            if let Some(mb) = w.file_size_limit {
                e.file_size_limit = bytes(&key("fileSizeLimit"), mb)?;
            }
            if let Some(mb) = w.total_size_limit {
                e.total_size_limit = bytes(&key("totalSizeLimit"), mb)?;
            }
            if let Some(types) = &w.supported_mime_types {
                e.supported = types
                    .iter()
                    .map(|p| {
                        Regex::new(p).map_err(|_| {
                            ConfigError::invalid(
                                &key("supportedMimeTypes"),
                                p,
                                "regular expressions such as \"^image/(png|jpeg)$\"",
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?;
                e.patterns = types.clone();
            }
            if let Some(d) = w.disabled {
                e.disabled = d;
            }
            endpoints.insert(name.clone(), e);
        }
        let user_quota = env
            .int("FILE_USER_QUOTA_MB")?
            .filter(|n| *n > 0)
            .map(|n| n.saturating_mul(MB));
        Ok(FileSettings {
            endpoints,
            server_file_size_limit: match written.server_file_size_limit {
                Some(mb) => bytes("fileConfig.serverFileSizeLimit", mb)?,
                None => 512 * MB,
            },
            avatar_size_limit: match written.avatar_size_limit {
                Some(mb) => bytes("fileConfig.avatarSizeLimit", mb)?,
                None => 2 * MB,
            },
            file_token_limit: written.file_token_limit.unwrap_or(100_000),
            client_image_resize: written.client_image_resize,
            user_quota,
            image_output_type,
            document_reader: None,
        })
    }

    /// The limits for uploads to `endpoint`: its own, else those for its type (a custom
    /// endpoint's `custom`), else `default`, as LibreChat looks them up.
    pub fn endpoint(&self, endpoint: &str, endpoint_type: Option<&str>) -> &EndpointFiles {
        self.endpoints
            .get(endpoint)
            .or_else(|| endpoint_type.and_then(|t| self.endpoints.get(t)))
            .or_else(|| self.endpoints.get("default"))
            .expect("default is always there")
    }

    /// `GET /api/files/config`: what LibreChat's client merges over its own defaults, in
    /// librechat.yaml's form. Every endpoint the client has defaults of its own for is named,
    /// so it offers only the types this server takes.
    pub fn for_client(&self, endpoint_names: impl IntoIterator<Item = String>) -> Value {
        // LibreChat's client has built-in upload settings for these.
        let builtin = [
            "default",
            "agents",
            "assistants",
            "azureAssistants",
            "anthropic",
        ];
        let mut endpoints = Map::new();
        for name in builtin
            .iter()
            .map(|n| n.to_string())
            .chain(endpoint_names)
            .chain(self.endpoints.keys().cloned())
        {
            let e = self.endpoint(&name, None);
            endpoints.insert(name, e.as_yaml());
        }
        let mut out = json!({
            "endpoints": endpoints,
            "serverFileSizeLimit": self.server_file_size_limit as f64 / MB as f64,
            "avatarSizeLimit": self.avatar_size_limit as f64 / MB as f64,
            "fileTokenLimit": self.file_token_limit,
        });
        if let Some(resize) = &self.client_image_resize {
            out["clientImageResize"] = resize.clone();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(yaml: Value) -> Result<FileSettings, ConfigError> {
        FileSettings::load(&Env::default(), Some(&yaml), None)
    }

    #[test]
    fn endpoints_start_from_default_and_disabled_means_nothing() {
        let s = load(json!({
            "serverFileSizeLimit": 100,
            "endpoints": {
                "openAI": {"fileSizeLimit": 5, "disabled": false},
                "default": {"fileLimit": 3, "supportedMimeTypes": ["^text/plain$"]},
                "anthropic": {"disabled": true},
            },
        }))
        .unwrap();
        assert_eq!(s.server_file_size_limit, 100 * MB);
        let openai = s.endpoint("openAI", None);
        assert_eq!((openai.file_limit, openai.file_size_limit), (3, 5 * MB));
        assert!(openai.accepts("text/plain") && !openai.accepts("text/html"));
        assert!(!s.endpoint("anthropic", None).accepts("text/plain"));
        // An endpoint not named: default.
        assert_eq!(s.endpoint("groq", Some("custom")).file_limit, 3);
        let client = s.for_client(["groq".to_owned()]);
        assert_eq!(client["endpoints"]["openAI"]["fileSizeLimit"], 5.0);
        assert_eq!(client["endpoints"]["anthropic"]["disabled"], true);
        assert_eq!(client["endpoints"]["groq"]["fileLimit"], 3);
    }

    #[test]
    fn the_defaults_take_what_this_server_reads() {
        let s = FileSettings::load(&Env::default(), None, None).unwrap();
        let d = s.endpoint("openAI", None);
        assert_eq!((d.file_limit, d.file_size_limit), (10, 512 * MB));
        for ok in [
            "text/plain",
            "text/markdown",
            "application/json",
            "text/x-python",
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.oasis.opendocument.text",
        ] {
            assert!(d.accepts(ok), "{ok}");
        }
        for no in [
            "video/mp4",
            "application/zip",
            "application/octet-stream",
            "application/msword",
        ] {
            assert!(!d.accepts(no), "{no}");
        }
        assert_eq!((s.avatar_size_limit, s.file_token_limit), (2 * MB, 100_000));
        assert_eq!(s.user_quota, None);
    }

    #[test]
    fn bad_values_name_their_key() {
        let e = load(json!({"endpoints": {"openAI": {"supportedMimeTypes": ["(unclosed"]}}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("fileConfig.endpoints.openAI.supportedMimeTypes"),
            "{e}"
        );
        let e = load(json!({"serverFileSizeLimit": -1}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("serverFileSizeLimit"), "{e}");
        assert!(load(json!({"fileTokenLimit": "many"})).is_err());
    }
}
