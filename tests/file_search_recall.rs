//! Retrieval quality of file search on a small labelled set: 20 one-topic documents and 3
//! questions each (one in the document's words, two paraphrased with other words for the
//! same things), recall@5 at the document level with BM25 alone and with dense retrieval
//! fused in (the fake embeddings endpoint folds synonyms, as a real embedding model places
//! them near each other). Both figures are printed for the closing note.

mod support;

use support::TestServer;
use support::fake_embeddings::FakeEmbeddings;
use support::file_search::{add_to_chat, embedded, found, settle};

/// `(name, text, [literal question, paraphrase, paraphrase])`.
const SET: &[(&str, &str, [&str; 3])] = &[
    (
        "car",
        "The garage on Elm Street can repair your car. A brake repair has a price of 80 \
         euros and changing the oil is 40 euros.",
        [
            "price of a brake repair at the garage",
            "how much does it cost to mend an automobile",
            "fee to fix my vehicle",
        ],
    ),
    (
        "doctor",
        "The doctor sees patients on Mondays. Call the clinic to book a doctor appointment \
         when you feel ill.",
        [
            "book a doctor appointment at the clinic",
            "physician for sick people",
            "see a clinician if unwell",
        ],
    ),
    (
        "bread",
        "Our bakery bakes bread every morning at five. A sourdough bread keeps for three days.",
        [
            "how long does sourdough bread keep",
            "who makes the baguette",
            "a fresh loaf",
        ],
    ),
    (
        "house",
        "We sell a large house with four bedrooms and a garden. The house price is 300000 euros.",
        [
            "house with four bedrooms",
            "purchase a big home",
            "cost of the residence",
        ],
    ),
    (
        "ship",
        "The ship leaves the harbour at noon. Passengers board the ship one hour before it \
         sails to the island.",
        [
            "when does the ship leave the harbour",
            "what time does the boat depart",
            "embark on the vessel",
        ],
    ),
    (
        "dog",
        "Walk your dog twice a day. A puppy needs food three times a day and plenty of sleep.",
        [
            "how often to walk a dog",
            "feeding a young canine",
            "exercise for a hound",
        ],
    ),
    (
        "cat",
        "A cat sleeps sixteen hours a day. Kittens should see a vet before eight weeks.",
        [
            "how many hours does a cat sleep",
            "feline rest",
            "check up for young felines",
        ],
    ),
    (
        "mountain",
        "The mountain hut is open from June to September. The summit is at 3200 metres.",
        [
            "mountain hut opening months",
            "how high is the peak",
            "alp shelter season",
        ],
    ),
    (
        "rain",
        "Heavy rain is expected tomorrow afternoon. Bring an umbrella because the rain will \
         last until evening.",
        [
            "will it rain tomorrow afternoon",
            "forecast of a downpour",
            "precipitation later",
        ],
    ),
    (
        "law",
        "The new law limits noise after ten at night. Neighbours who break the law pay a fine.",
        [
            "noise law after ten",
            "what does the statute say",
            "penalty under the regulation",
        ],
    ),
    (
        "music",
        "The choir sings music by Bach every Sunday. New singers can join the choir rehearsal \
         on Thursday.",
        [
            "join the choir rehearsal",
            "which songs are performed weekly",
            "melody concert",
        ],
    ),
    (
        "book",
        "The library lends each book for three weeks. A late book costs ten cents per day.",
        [
            "how long does the library lend a book",
            "borrowing a novel",
            "overdue tome",
        ],
    ),
    (
        "computer",
        "Restart the computer if the screen freezes. Save your files before you restart.",
        [
            "restart when the screen freezes",
            "my laptop is stuck",
            "reboot the pc",
        ],
    ),
    (
        "teacher",
        "Each teacher holds office hours on Wednesday. Students may ask the teacher about \
         grades.",
        [
            "teacher office hours",
            "when can I meet the instructor",
            "talk to a tutor about marks",
        ],
    ),
    (
        "tooth",
        "Brush each tooth for two minutes. Visit the dentist twice a year to keep your teeth \
         healthy.",
        [
            "how long to brush each tooth",
            "molar care",
            "dental hygiene",
        ],
    ),
    (
        "bike",
        "Rent a bicycle at the station for five euros. The bicycle lock code is on the receipt.",
        [
            "rent a bicycle at the station",
            "hire a bike",
            "cycle rental",
        ],
    ),
    (
        "coffee",
        "The café serves coffee from seven. An espresso is two euros and a cappuccino three.",
        [
            "when does the café serve coffee",
            "hot brew",
            "cost of a brew",
        ],
    ),
    (
        "wine",
        "The vineyard tour includes a wine tasting. Each wine comes from grapes picked in \
         October.",
        [
            "vineyard tour wine tasting",
            "sampling vintages",
            "grape harvest month",
        ],
    ),
    (
        "child",
        "The swimming course for children starts in May. Each child needs a towel and a \
         swimming cap.",
        [
            "swimming course for children",
            "when do youngsters commence",
            "what should a kid bring",
        ],
    ),
    (
        "garden",
        "Water the plants in the garden every evening in summer. Tomato plants need a stake.",
        [
            "water plants every evening",
            "vegetation care",
            "when to irrigate flora",
        ],
    ),
];

/// The share of questions whose document is among the first five documents found.
async fn recall_at_5(server: &TestServer, ids: &[String], dense: bool) -> (f64, Vec<String>) {
    let mut hits = 0;
    let mut missed = Vec::new();
    for (i, (name, _, questions)) in SET.iter().enumerate() {
        for q in questions {
            let mut docs: Vec<String> = Vec::new();
            for p in found(server, ids, q, dense).await {
                if !docs.contains(&p.file_id) {
                    docs.push(p.file_id);
                }
            }
            if docs.iter().take(5).any(|d| *d == ids[i]) {
                hits += 1;
            } else {
                missed.push(format!("{name}: {q}"));
            }
        }
    }
    (hits as f64 / (SET.len() * 3) as f64, missed)
}

#[tokio::test]
async fn dense_retrieval_fused_with_bm25_recalls_at_least_as_much_as_bm25() {
    let emb = FakeEmbeddings::start().await;
    let mut b = TestServer::builder();
    for (k, v) in emb.env() {
        b = b.env(k, &v);
    }
    let server = b.start().await;
    let alice = server
        .signed_in("alice@example.org", "correct horse battery")
        .await;
    let mut ids = Vec::new();
    for (name, text, _) in SET {
        ids.push(add_to_chat(&server, &alice, &format!("{name}.txt"), text).await);
    }
    settle(&server).await;
    embedded(&server, SET.len() as i64).await;

    let (bm25, bm25_missed) = recall_at_5(&server, &ids, false).await;
    let (fused, fused_missed) = recall_at_5(&server, &ids, true).await;
    eprintln!(
        "file search recall@5 over {} questions: BM25 {:.3}, BM25 + dense {:.3}",
        SET.len() * 3,
        bm25,
        fused
    );
    eprintln!("missed by BM25: {bm25_missed:?}\nmissed by BM25 + dense: {fused_missed:?}");
    assert!(fused >= bm25, "{fused} < {bm25}");
    // The literal questions are BM25's: it finds every one.
    assert!(
        bm25_missed
            .iter()
            .all(|m| !SET.iter().any(|(n, _, q)| *m == format!("{n}: {}", q[0])))
    );
    // And the fake's synonyms are there for the paraphrases: dense retrieval finds them all.
    assert!(fused_missed.is_empty(), "{fused_missed:?}");
}
