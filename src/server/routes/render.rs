//! `POST /api/render {text}` → `{html}`, or `{texts: [...]}` → `{html: [...]}`: messages'
//! markdown as sanitized HTML (see `chat::render`), for the web app, also while an answer
//! streams. A batch lets the app render the messages on screen in one request.
//!
//! Rendering is CPU work (markdown, highlighting, sanitizing), so it is bounded: the text's
//! size, a per-user rate (`RENDER_USER_MAX`), one render at a time per account, no more renders
//! at once than there are cores, each on a thread of its own (never the async ones), and text
//! that nests deeper or holds more TeX than the renderer handles in time is shown as plain text
//! ([`to_html`]).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::bounded::BoundedCache;
use crate::config::ImageHosts;
use crate::server::middleware::auth::limit;
use crate::server::middleware::{AuthUser, Client};
use crate::server::{ApiError, AppState, JsonBody};

/// The most text rendered in one request, in bytes.
const MAX_TEXT: usize = 512 * 1024;
/// The most texts in one batch.
const MAX_TEXTS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(render))
}

/// Renders in progress, server-wide: one per core. A flood of rendering then waits here
/// instead of taking every core, and every blocking thread the database's reads need.
static CORES: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get())));

/// One render at a time per account, so one account never holds more than one core.
static PER_ACCOUNT: LazyLock<BoundedCache<Arc<Semaphore>>> = LazyLock::new(|| {
    BoundedCache::builder(100_000)
        .time_to_idle(Duration::from_secs(10 * 60))
        .build()
});

/// The deepest nesting (quotes in quotes, lists in lists, emphasis in emphasis) rendered: the
/// sanitizer's HTML parser takes time quadratic in the depth (256 KB of `>` took over five
/// minutes of a core).
const MAX_NESTING: usize = 64;
/// The longest TeX expression rendered as math. The TeX renderer recurses once per level (a
/// chain of a few thousand `\sqrt` overflowed a 2 MiB stack and ended the process) and takes
/// time quadratic in the depth.
const MAX_TEX_CHARS: usize = 2_000;
/// The most TeX rendered as math in one text.
const MAX_TEX_TOTAL: usize = 16 * 1024;
/// The stack of a render thread: many times what TeX within the bounds above needs.
const RENDER_STACK: usize = 16 * 1024 * 1024;

/// `text` as sanitized HTML (see `chat::render`), or, when it nests deeper than
/// [`MAX_NESTING`] or holds more TeX than [`MAX_TEX_CHARS`] / [`MAX_TEX_TOTAL`], as plain
/// text: no message worth reading needs more, and rendering more costs minutes or the process.
/// Run it through [`rendering`].
pub(super) fn to_html(text: &str, images: &ImageHosts) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    // The renderer's options: the same events, so the same nesting.
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_MATH;
    let (mut depth, mut tex) = (0usize, 0usize);
    let bounded = Parser::new_ext(text, options).all(|event| match event {
        Event::Start(_) => {
            depth += 1;
            depth <= MAX_NESTING
        }
        Event::End(_) => {
            depth = depth.saturating_sub(1);
            true
        }
        Event::InlineMath(math) | Event::DisplayMath(math) => {
            tex += math.len();
            math.len() <= MAX_TEX_CHARS && tex <= MAX_TEX_TOTAL
        }
        _ => true,
    });
    if bounded {
        return crate::chat::render::to_html(text, images);
    }
    let mut escaped = String::with_capacity(text.len());
    pulldown_cmark_escape::escape_html(&mut escaped, text).expect("writing to a String");
    format!("<p>{}</p>\n", escaped.replace('\n', "<br>\n"))
}

/// Runs `work` (rendering) on a thread of its own with a large stack, in turn: one at a time
/// for `account`, and no more at once than there are cores.
pub(super) async fn rendering<T: Send + 'static>(
    account: Option<&str>,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    let mine = match account {
        Some(id) => Some(
            PER_ACCOUNT
                .get_with(id.to_owned(), || Arc::new(Semaphore::new(1)))
                .acquire_owned()
                .await
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let core = CORES.acquire().await.map_err(ApiError::internal)?;
    // The turns go with the work: a request given up on still holds them until it is done.
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("render".into())
        .stack_size(RENDER_STACK)
        .spawn(move || {
            let _turns = (core, mine);
            let _ = done.send(work());
        })
        .map_err(ApiError::internal)?;
    result.await.map_err(ApiError::internal)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RenderBody {
    text: Option<String>,
    texts: Option<Vec<String>>,
}

#[utoipa::path(post, path = "/api/render", operation_id = "render_render", request_body = RenderBody, summary = "Render markdown to sanitized HTML", tag = "render", responses((status = 200, description = "Success")))]
async fn render(
    State(state): State<AppState>,
    client: Client,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<RenderBody>,
) -> Result<Json<Value>, ApiError> {
    if let Some(spec) = &state.settings.limits.render_user {
        let message = "Too many render requests. Try again later";
        limit(
            &state,
            spec,
            "render_user",
            Some(&user.id),
            &client,
            message,
        )
        .await?;
    }
    let (texts, single) = match (body.text, body.texts) {
        (Some(t), None) => (vec![t], true),
        (None, Some(ts)) => (ts, false),
        _ => {
            return Err(ApiError::BadRequest("send either text or texts".into()));
        }
    };
    if texts.len() > MAX_TEXTS {
        return Err(ApiError::BadRequest(format!(
            "at most {MAX_TEXTS} texts at once"
        )));
    }
    if texts.iter().map(String::len).sum::<usize>() > MAX_TEXT {
        return Err(ApiError::PayloadTooLarge(format!(
            "the text is longer than {MAX_TEXT} bytes"
        )));
    }
    let images = state.settings.images.clone();
    let mut html = rendering(Some(&user.id), move || {
        texts
            .iter()
            .map(|t| to_html(t, &images))
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(Json(if single {
        json!({ "html": html.pop().unwrap_or_default() })
    } else {
        json!({ "html": html })
    }))
}
