//! File search with dense retrieval (an embeddings endpoint configured, here a fake speaking
//! OpenAI's `/v1/embeddings`): the chunks of uploaded documents get vectors in the background,
//! in batches, retried and billed; a restart resumes; vectors go with their file or account;
//! the tool fuses the nearest chunks with BM25's, and answers with BM25 alone when the
//! endpoint fails or never answers the question's embedding.

mod support;

use support::fake_embeddings::{DIMS, FakeEmbeddings, MODEL as EMBEDDING_MODEL};
use support::fake_openai::{FakeOpenAi, KEY};
use support::file_search::{
    add_to_chat, chat_body, delete_account, delete_file, embedded, found, script, settle,
    tool_results,
};
use support::poll::eventually;
use support::{Session, TestServer};

const PW: &str = "correct horse battery";
const CARS: &str = "The garage on Elm Street can repair your car. A brake repair has a price of \
                    80 euros and changing the oil is 40 euros.";
const BREAD: &str = "Our bakery bakes bread every morning at five.";
const BOBS: &str = "Bob's garage: every car repair at half price, ask for Bob.";

fn builder(fake: &FakeOpenAi, emb: &FakeEmbeddings, extra: &[(&str, &str)]) -> support::Builder {
    let mut b = TestServer::builder()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_REVERSE_PROXY", &fake.base)
        .env("OPENAI_MODELS", "gpt-4o");
    for (k, v) in emb.env() {
        b = b.env(k, &v);
    }
    for (k, v) in extra {
        b = b.env(k, v);
    }
    b
}

/// A document of `n` sections, each a chunk of its own.
fn sections(n: usize) -> String {
    let text: Vec<String> = (0..n)
        .map(|i| {
            format!(
                "# Part {i}\n\n{}",
                format!("topic{i} words here ").repeat(25)
            )
        })
        .collect();
    let text = text.join("\n\n");
    assert_eq!(librechat::files::chunks::split(&text).len(), n);
    text
}

/// Has the model search `files` for `query`, asked in a chat with file search on; what the
/// tool answered it.
async fn searched(
    server: &TestServer,
    fake: &FakeOpenAi,
    s: &Session,
    query: &str,
    files: &[&str],
) -> String {
    script(fake, query);
    let done = server
        .chat(s, "openAI", chat_body("How?", None, files, true))
        .await;
    assert!(done.get("error").is_none(), "{done}");
    tool_results(fake).join("\n")
}

/// One row of SQL, as text.
async fn sql(server: &TestServer, query: &'static str, arg: String) -> Vec<String> {
    server
        .state
        .db
        .read(move |c| {
            let mut stmt = c.prepare(query)?;
            Ok(stmt
                .query_row([arg], |r| {
                    (0..r.column_count())
                        .map(|i| {
                            Ok(match r.get_ref(i)? {
                                rusqlite::types::ValueRef::Text(t) => {
                                    String::from_utf8_lossy(t).into_owned()
                                }
                                rusqlite::types::ValueRef::Integer(i) => i.to_string(),
                                other => format!("{other:?}"),
                            })
                        })
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap_or_default())
        })
        .await
        .unwrap()
}

async fn vectors_of(server: &TestServer, file_id: &str) -> i64 {
    let got = sql(
        server,
        "SELECT count(*) FROM chunk_vectors WHERE file_id = ?1",
        file_id.into(),
    )
    .await;
    got[0].parse().unwrap()
}

#[tokio::test]
async fn chunks_get_vectors_in_batches_and_lose_them_with_their_file_or_account() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let server = builder(&fake, &emb, &[("EMBEDDINGS_BATCH_SIZE", "3")])
        .start()
        .await;
    let (alice, bob) = server.two_users(PW).await;
    let doc = add_to_chat(&server, &alice, "long.md", &sections(7)).await;
    embedded(&server, 1).await;
    assert_eq!(vectors_of(&server, &doc).await, 7);
    assert_eq!((emb.inputs(), emb.requests()), (7, 3));
    assert_eq!(emb.biggest_batch(), 3);
    let row = sql(
        &server,
        "SELECT v.model, v.dims, length(v.vector), v.user_id = f.user_id, v.chunk, v.text
           FROM chunk_vectors v JOIN files f USING (file_id)
          WHERE v.file_id = ?1 ORDER BY v.chunk DESC LIMIT 1",
        doc.clone(),
    )
    .await;
    let dims = DIMS.to_string();
    let bytes = (DIMS * 4).to_string();
    assert_eq!(row[..5], [EMBEDDING_MODEL, &dims, &bytes, "1", "6"]);
    assert!(row[5].starts_with("# Part 6"), "{row:?}");

    let bobs = add_to_chat(&server, &bob, "bob.txt", BOBS).await;
    embedded(&server, 2).await;
    delete_file(&server, &alice, &doc).await;
    assert_eq!(vectors_of(&server, &doc).await, 0);
    assert_eq!(server.count("file_vectors").await, 1);
    delete_account(&server, &bob).await;
    assert_eq!(vectors_of(&server, &bobs).await, 0);
    assert_eq!(server.count("chunk_vectors").await, 0);
}

#[tokio::test]
async fn the_tool_finds_a_paraphrase_bm25_misses_and_never_another_person_s_chunks() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let server = builder(&fake, &emb, &[]).start().await;
    let (alice, bob) = server.two_users(PW).await;
    let cars = add_to_chat(&server, &alice, "cars.txt", CARS).await;
    let bread = add_to_chat(&server, &alice, "bread.txt", BREAD).await;
    add_to_chat(&server, &bob, "bob.txt", BOBS).await;
    settle(&server).await;
    embedded(&server, 3).await;

    // No word in common with the document: BM25 finds nothing, dense retrieval finds it.
    let question = "fee to fix my automobile";
    let ids = [cars.clone(), bread.clone()];
    assert!(found(&server, &ids, question, false).await.is_empty());
    let hits = found(&server, &ids, question, true).await;
    assert_eq!(hits[0].file_id, cars, "{hits:?}");

    let answer = searched(&server, &fake, &alice, question, &[&cars, &bread]).await;
    assert!(answer.starts_with("File: cars.txt\n"), "{answer}");
    assert!(answer.contains("Relevance: 1.0000"), "{answer}");
    // Bob's chunk is as near to the question, and has vectors, but is not Alice's to search.
    assert!(!answer.contains("Bob"), "{answer}");
    let hits = found(&server, &ids, "Bob garage car repair", true).await;
    assert!(hits.iter().all(|h| !h.text.contains("Bob")), "{hits:?}");
}

#[tokio::test]
async fn a_restart_mid_way_embeds_only_the_chunks_without_vectors() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let extra = [("EMBEDDINGS_BATCH_SIZE", "2")];
    let server = builder(&fake, &emb, &extra).start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    // Two batches answered, then the endpoint fails: the worker holds 4 of 7 vectors.
    emb.fail_after(Some(2));
    let doc = add_to_chat(&server, &alice, "long.md", &sections(7)).await;
    eventually(|| async { emb.failures() >= 1 }).await;
    assert_eq!(vectors_of(&server, &doc).await, 4);
    assert_eq!(server.count("file_vectors").await, 0);
    let dir = server.stop().await;

    // Started again (with a working endpoint): the three chunks left, and no other.
    let healthy = FakeEmbeddings::start().await;
    let server = builder(&fake, &healthy, &extra).in_dir(dir).start().await;
    embedded(&server, 1).await;
    assert_eq!(vectors_of(&server, &doc).await, 7);
    assert_eq!(healthy.inputs(), 3);
}

#[tokio::test]
async fn a_429_is_waited_out_and_a_failing_endpoint_leaves_bm25_answering() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let server = builder(&fake, &emb, &[]).start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    emb.fail_next(&[429]);
    let cars = add_to_chat(&server, &alice, "cars.txt", CARS).await;
    embedded(&server, 1).await;
    assert_eq!((emb.requests(), emb.failures(), emb.inputs()), (2, 1, 1));

    // From now on every request gets a 500: the new document has no vectors, the query none
    // either, and BM25 answers for both documents.
    emb.fail_after(Some(0));
    let bread = add_to_chat(&server, &alice, "bread.txt", BREAD).await;
    settle(&server).await;
    let query = "bakery bread brake repair";
    let answer = searched(&server, &fake, &alice, query, &[&cars, &bread]).await;
    assert!(answer.contains(BREAD) && answer.contains(CARS), "{answer}");
    assert_eq!(vectors_of(&server, &bread).await, 0);
}

#[tokio::test]
async fn a_query_embedding_that_never_comes_is_given_up_and_bm25_answers() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let server = builder(&fake, &emb, &[("EMBEDDINGS_TIMEOUT_MS", "1000")])
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let cars = add_to_chat(&server, &alice, "cars.txt", CARS).await;
    embedded(&server, 1).await;

    // The endpoint takes the question and never answers: the turn still ends, with what BM25
    // found.
    emb.hang();
    let asked = emb.requests();
    let answer = searched(&server, &fake, &alice, "brake repair price", &[&cars]).await;
    assert_eq!(
        emb.requests(),
        asked + 1,
        "the question went to the endpoint"
    );
    assert!(answer.starts_with("File: cars.txt\n"), "{answer}");
    assert!(answer.contains(CARS), "{answer}");
}

#[tokio::test]
async fn embedding_is_billed_to_the_owner_and_skipped_without_credit() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let server = builder(&fake, &emb, &[("CHECK_BALANCE", "true")])
        .start()
        .await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let cars = add_to_chat(&server, &alice, "cars.txt", CARS).await;
    embedded(&server, 1).await;
    let row = sql(
        &server,
        "SELECT t.model, t.token_type, t.raw_amount, t.token_value, t.user_id = f.user_id
           FROM transactions t JOIN files f ON f.file_id = ?1
          WHERE t.context = 'embeddings'",
        cars,
    )
    .await;
    let tokens = CARS.split_whitespace().count();
    // 0.02 credits a token (text-embedding-3-small's $0.02 per million), rounded up.
    assert_eq!(
        row,
        [EMBEDDING_MODEL, "prompt", &format!("-{tokens}"), "-1", "1"]
    );

    // With no credit left, the document is not embedded, and BM25 still finds it.
    let broke = FakeEmbeddings::start().await;
    let extra = [("CHECK_BALANCE", "true"), ("START_BALANCE", "0")];
    let server = builder(&fake, &broke, &extra).start().await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let bread = add_to_chat(&server, &bob, "bread.txt", BREAD).await;
    settle(&server).await;
    let hits = found(&server, std::slice::from_ref(&bread), "bakery", true).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(vectors_of(&server, &bread).await, 0);
    assert_eq!(broke.inputs(), 1, "only the query was embedded");
}

#[tokio::test]
async fn azure_is_called_at_its_deployment_with_an_api_key_and_a_wrong_key_leaves_bm25() {
    let (fake, emb) = (FakeOpenAi::start().await, FakeEmbeddings::start().await);
    let endpoint = emb.base.trim_end_matches("/v1").to_owned();
    let azure = |key: &str| {
        TestServer::builder()
            .env("EMBEDDINGS_PROVIDER", "azure")
            .env("RAG_AZURE_OPENAI_ENDPOINT", &endpoint)
            .env("RAG_AZURE_OPENAI_API_KEY", key)
            .env("OPENAI_API_KEY", KEY)
            .env("OPENAI_REVERSE_PROXY", &fake.base)
    };
    let server = azure(support::fake_embeddings::KEY).start().await;
    let alice = server.signed_in("alice@example.org", PW).await;
    let cars = add_to_chat(&server, &alice, "cars.txt", CARS).await;
    embedded(&server, 1).await;
    assert_eq!(vectors_of(&server, &cars).await, 1);

    // A wrong key is no passing trouble: the document waits, BM25 finds it.
    let server = azure("wrong").start().await;
    let bob = server.signed_in("bob@example.org", PW).await;
    let bread = add_to_chat(&server, &bob, "bread.txt", BREAD).await;
    settle(&server).await;
    eventually(|| async { emb.failures() >= 1 }).await;
    let hits = found(&server, std::slice::from_ref(&bread), "bakery", true).await;
    assert_eq!(hits.len(), 1);
    assert_eq!(vectors_of(&server, &bread).await, 0);
}
