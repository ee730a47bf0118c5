//! The AVV text: Nachweis's proposal, versions per language with their
//! checksum, no version for an unchanged text, and who may read and write.

use app::avv::{AvvSaved, AvvTexts};
use app::domain::Role;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::both;
use crate::helpers::*;

async fn texts(c: &Client) -> AvvTexts {
    let a = c.call("avv/texts", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

async fn save(c: &Client, locale: &str, title: &str, body: &str) -> AvvSaved {
    let a = c
        .call(
            "avv/save",
            &[("locale", locale), ("title", title), ("body", body)],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

async fn the_avv_text_is_versioned_per_language(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;

    // Nothing saved yet: the form proposes Nachweis's text, which follows
    // Art. 28(3) point by point and names both annexes.
    let t = texts(&c).await;
    assert!(t.can_edit);
    let de = &t.languages[0];
    assert_eq!(de.locale, "de");
    assert!(de.current.is_none() && de.history.is_empty());
    for point in [
        "lit. a", "(lit. b)", "(lit. c)", "(lit. d)", "(lit. e)", "(lit. f)", "(lit. g)",
        "(lit. h)", "Anlage 1", "Anlage 2",
    ] {
        assert!(de.draft_body.contains(point), "the proposal lacks {point}");
    }
    assert!(t.languages[1].draft_body.contains("Annex 2"));

    let first = save(&c, "de", &de.draft_title, &de.draft_body).await;
    assert_eq!((first.version, first.created), (1, true));
    // The same text again makes no version.
    let again = save(&c, "de", &de.draft_title, &format!("{}\r\n", de.draft_body)).await;
    assert_eq!(
        (again.id, again.version, again.created),
        (first.id, 1, false)
    );
    let changed = format!("{}\n\n## § 12 Gerichtsstand\n\nMünchen.", de.draft_body);
    let second = save(&c, "de", &de.draft_title, &changed).await;
    assert_eq!((second.version, second.created), (2, true));
    // English has versions of its own.
    let en = save(&c, "en", "Data processing agreement", "## § 1\n\nText.").await;
    assert_eq!(en.version, 1);

    let t = texts(&c).await;
    let current = t.languages[0].current.clone().unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(
        current.sha256,
        hex::encode(Sha256::digest(format!(
            "{}\n\n{}",
            de.draft_title,
            changed.trim()
        ))),
        "the checksum is of title and body as stored"
    );
    assert_eq!(t.languages[0].history.len(), 2);
    assert!(
        current
            .blocks
            .iter()
            .any(|b| b.kind == "heading" && b.text == "§ 12 Gerichtsstand")
    );

    // The page shows the current version with its checksum, and confirms.
    let page = c.get("/avv?gespeichert=neu&fassung=2").await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body.replace("<!>", "");
    assert!(body.contains(&current.sha256), "{body}");
    assert!(body.contains("Gespeichert – Fassung 2"), "{body}");
    assert!(body.contains("§ 12 Gerichtsstand"));
    let english = c.get("/avv?sprache=en").await.body;
    assert!(
        english.contains(r#"aria-current="page" hreflang="en""#),
        "{english}"
    );
    assert!(english.contains("Data processing agreement"));

    // A browser without JavaScript is led back to the language it saved.
    let a = c
        .post_form(
            "avv/save",
            &[
                ("locale", "en"),
                ("title", "Data processing agreement"),
                ("body", "## § 1\n\nText."),
            ],
            "/avv?sprache=en",
        )
        .await;
    assert_eq!(a.status, StatusCode::FOUND);
    assert_eq!(
        a.headers["location"],
        "/avv?sprache=en&gespeichert=unveraendert&fassung=1#text-en"
    );

    // Refused: a blank text, an unknown language.
    let blank = c
        .call(
            "avv/save",
            &[("locale", "de"), ("title", "AVV"), ("body", "  \n ")],
        )
        .await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.body.contains("\"body\""), "{}", blank.body);
    let unknown = c
        .call(
            "avv/save",
            &[("locale", "fr"), ("title", "AVV"), ("body", "Texte.")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The auditor reads, and may not save; staff do neither.
    let auditor = app.client();
    auditor.login_ok(&org.email(Role::Auditor)).await;
    let t = texts(&auditor).await;
    assert!(!t.can_edit);
    assert_eq!(t.languages[0].current.as_ref().unwrap().version, 2);
    let page = auditor.get("/avv").await;
    assert!(!page.body.contains("Fassung speichern"));
    assert_eq!(
        auditor
            .call(
                "avv/save",
                &[("locale", "de"), ("title", "X"), ("body", "Y")]
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    assert_eq!(
        staff.call("avv/texts", &[]).await.status,
        StatusCode::FORBIDDEN
    );

    // Another organisation has its own (none yet).
    let theirs = app.client();
    theirs.login_ok(&other.email(Role::Admin)).await;
    let t = texts(&theirs).await;
    assert!(t.languages.iter().all(|l| l.current.is_none()));
    let page = theirs.get("/avv").await.body;
    assert!(!page.contains(&current.sha256));

    // Each version is in the log.
    let log = c
        .call(
            "audit/page",
            &[("filter[entity]", "avv_text"), ("page", "1")],
        )
        .await;
    let log: app::audit::AuditLogPage = serde_json::from_str(&log.body).unwrap();
    assert_eq!(log.entries.len(), 3, "{log:?}");
    app.stop().await;
}
both!(the_avv_text_is_versioned_per_language);
