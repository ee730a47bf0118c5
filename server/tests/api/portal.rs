//! The customer portal: the current signed annex with ETag and logged
//! downloads, earlier versions, subprocessors; nothing of other organisations.

use app::domain::Role;
use app::portal::PortalView;
use reqwest::StatusCode;
use sha2::{Digest, Sha256};

use crate::both;
use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;

async fn customers_fetch_the_current_annex_and_see_subprocessors(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    create(
        &admin,
        category_id(&catalogue(&admin).await, "3.1"),
        "Besucher werden am Empfang registriert.",
    )
    .await;
    let a = admin.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let sub = admin
        .call(
            "subprocessors/save",
            &[
                ("name", "DomainFactory GmbH"),
                ("locations", "Deutschland"),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
        )
        .await;
    assert_eq!(sub.status, StatusCode::OK, "{}", sub.body);
    let a = admin
        .call(
            "subprocessors/attestation/add",
            &[
                ("subprocessor_id", &sub.body),
                ("kind", "iso27001"),
                ("issuer", "TÜV"),
                ("valid_until", "2030-12-31"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let v = customer.call("portal/overview", &[]).await;
    let v: PortalView = serde_json::from_str(&v.body).expect(&v.body);
    let current = v.current.expect("a published version");
    assert_eq!(current.version, 1);
    assert_eq!(v.subprocessors.len(), 1);
    // Described for customers, not as the auditor's code.
    assert!(
        v.subprocessors[0].attestations[0]
            .kind
            .starts_with("Zertifikat nach ISO/IEC 27001: "),
        "{}",
        v.subprocessors[0].attestations[0].kind
    );
    assert_eq!(
        v.subprocessors[0].attestations[0]
            .valid_until
            .map(|d| d.to_string())
            .as_deref(),
        Some("2030-12-31")
    );
    let page = customer.get("/portal").await;
    // The signer by name (not `CN=…`), the signature explained, the DPO's contact.
    let signer = app::annex::signer_name(&current.signer);
    assert!(
        !signer.contains("CN=") && page.body.contains(&signer),
        "{signer}"
    );
    assert!(page.body.contains("Was bedeutet die Signatur"));
    assert!(page.body.contains("Fragen zum Datenschutz"));
    assert!(
        page.body.contains("Signierte Anlage herunterladen") && page.body.contains(&current.sha256),
        "{}",
        page.body
    );

    // The stored bytes, with their hash as ETag; a conditional GET is answered 304.
    let url = format!("{}/portal/anlage/v1.pdf", app.address);
    let res = customer.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", current.sha256));
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment")
    );
    let pdf = res.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(hex::encode(Sha256::digest(&pdf)), current.sha256);
    // The list reads the size in the database, not the bytes.
    assert_eq!(current.size, pdf.len() as i64);
    let res = customer
        .http
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.bytes().await.unwrap().is_empty());

    // The DPO sees who fetched which version (once: the 304 delivered nothing).
    let log = admin
        .call(
            "audit/list",
            &[
                ("filter[entity]", "annex"),
                ("filter[action]", "download"),
                ("filter[actor]", ""),
            ],
        )
        .await;
    let log: Vec<app::audit::AuditEntry> = serde_json::from_str(&log.body).expect(&log.body);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].actor, org.email(Role::Customer));
    assert_eq!(log[0].entity_id, "1");

    // Customers stay out of the internal routes; other organisations' customers out of this one.
    assert_eq!(
        customer
            .http
            .get(format!("{}/anlage/v1.pdf", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        customer.call("subprocessors/list", &[]).await.status,
        StatusCode::FORBIDDEN
    );
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Customer)).await;
    assert_eq!(
        stranger.http.get(&url).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let theirs = stranger.call("portal/overview", &[]).await;
    let theirs: PortalView = serde_json::from_str(&theirs.body).unwrap();
    assert!(theirs.current.is_none() && theirs.subprocessors.is_empty());
    assert_eq!(theirs.org_name, "other GmbH");
    // Not signed in: to the login.
    let anon = app.client();
    assert!(
        anon.http
            .get(&url)
            .send()
            .await
            .unwrap()
            .status()
            .is_redirection()
    );
    app.stop().await;
}
both!(customers_fetch_the_current_annex_and_see_subprocessors);

async fn customers_compare_versions_and_see_what_changed_since_their_last_visit(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&admin).await;
    create(
        &admin,
        category_id(&cat, "3.1"),
        "Besucher werden am Empfang registriert.",
    )
    .await;
    assert!(admin.call("annex/publish", &[]).await.status.is_success());

    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let overview = |c: Client| async move {
        let a = c.call("portal/overview", &[]).await;
        serde_json::from_str::<PortalView>(&a.body).expect(&a.body)
    };
    // First visit: nothing to compare with.
    assert!(overview(customer.clone()).await.since_last_visit.is_none());
    let again = overview(customer.clone())
        .await
        .since_last_visit
        .expect("second visit");
    assert_eq!(again.version_then, 1);
    assert!(again.changes.is_empty());

    create(
        &admin,
        category_id(&cat, "3.2"),
        "Bildschirme sperren nach fünf Minuten.",
    )
    .await;
    assert!(admin.call("annex/publish", &[]).await.status.is_success());
    app.clock.advance(chrono::Duration::days(3));
    let since = overview(customer.clone())
        .await
        .since_last_visit
        .expect("a visit");
    assert_eq!(since.version_then, 1);
    assert_eq!(since.changes.len(), 1, "{:?}", since.changes);
    assert_eq!(since.changes[0].kind, app::annex::ChangeKind::Added);
    assert_eq!(
        since.changes[0].new_text.as_deref(),
        Some("Bildschirme sperren nach fünf Minuten.")
    );
    // Seen now: the next visit has nothing new.
    let next = overview(customer.clone()).await.since_last_visit.unwrap();
    assert_eq!(next.version_then, 2);
    assert!(next.changes.is_empty());

    // Any two versions, either way round.
    let cmp = customer
        .call("portal/compare", &[("from", "1"), ("to", "2")])
        .await;
    let forward: Vec<app::annex::AnnexChange> = serde_json::from_str(&cmp.body).expect(&cmp.body);
    assert_eq!(forward.len(), 1);
    let cmp = customer
        .call("portal/compare", &[("from", "2"), ("to", "1")])
        .await;
    let back: Vec<app::annex::AnnexChange> = serde_json::from_str(&cmp.body).unwrap();
    assert_eq!(back[0].kind, app::annex::ChangeKind::Removed);
    // The page renders the comparison without JavaScript.
    let page = customer.get("/portal?von=1&bis=2").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Von Version 1 zu Version 2")
            && page.body.contains("Bildschirme sperren nach fünf Minuten."),
        "{}",
        page.body
    );
    // A version that does not exist, and another organisation's versions.
    let a = customer
        .call("portal/compare", &[("from", "1"), ("to", "9")])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Customer)).await;
    let a = stranger
        .call("portal/compare", &[("from", "1"), ("to", "2")])
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    assert!(!a.body.contains("Bildschirme"));
    app.stop().await;
}
both!(customers_compare_versions_and_see_what_changed_since_their_last_visit);

async fn a_category_move_reorders_the_annex_and_reads_as_moved_everywhere(backend: Backend) {
    use app::annex::{AnnexChange, AnnexOverview, ChangeKind};
    use app::entities::outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let customer_id = admin
        .call("customers/add", &[("name", "Kanzlei Hoffmann")])
        .await;
    assert_eq!(customer_id.status, StatusCode::OK, "{}", customer_id.body);
    let a = admin
        .call(
            "customers/contact/add",
            &[
                ("customer_id", &customer_id.body),
                ("name", "Lena Hoffmann"),
                ("email", "lena@kanzlei.example"),
                ("locale", "de"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let cat = catalogue(&admin).await;
    let first = cat.categories.iter().find(|c| c.number == "1").unwrap();
    let second = cat.categories.iter().find(|c| c.number == "2").unwrap();
    let (first_title, second_title) = (first.title.clone(), second.title.clone());
    let in_first = "Kundendaten werden vor der Auswertung pseudonymisiert.";
    let in_second = "Datenträger der Server sind vollständig verschlüsselt.";
    create(&admin, first.id.0, in_first).await;
    create(&admin, second.id.0, in_second).await;
    assert!(admin.call("annex/publish", &[]).await.status.is_success());

    // The first section moves down: its measures now come second.
    let a = admin
        .call(
            "toms/category/move",
            &[("id", &first.id.to_string()), ("direction", "down")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let overview: AnnexOverview =
        serde_json::from_str(&admin.call("annex/overview", &[]).await.body).unwrap();
    let moved = |changes: &[AnnexChange], text: &str| -> AnnexChange {
        changes
            .iter()
            .find(|c| c.new_text.as_deref() == Some(text))
            .unwrap_or_else(|| panic!("{text} not in {changes:?}"))
            .clone()
    };
    assert_eq!(overview.changes.len(), 2, "{:?}", overview.changes);
    let a = moved(&overview.changes, in_first);
    assert_eq!(a.kind, ChangeKind::Moved);
    assert_eq!(a.old_section.as_deref(), Some(&*format!("1 {first_title}")));
    assert_eq!(a.section, format!("2 {first_title}"));
    let b = moved(&overview.changes, in_second);
    assert_eq!(b.kind, ChangeKind::Moved);
    assert_eq!(
        b.old_section.as_deref(),
        Some(&*format!("2 {second_title}"))
    );
    assert_eq!(b.section, format!("1 {second_title}"));

    let v2 = admin.call("annex/publish", &[]).await;
    assert!(v2.status.is_success(), "{}", v2.body);
    let pdf = |v: i32| {
        let admin = admin.clone();
        async move {
            let res = admin
                .http
                .get(format!("{}/anlage/v{v}.pdf", admin.base))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            crate::publish::annex_text(&res.bytes().await.unwrap())
        }
    };
    let (v1, v2) = (pdf(1).await, pdf(2).await);
    let order = |text: &str| text.find(in_first).unwrap() < text.find(in_second).unwrap();
    assert!(order(&v1), "version 1: first section first");
    assert!(!order(&v2), "version 2: the moved section second");

    // The customer's mail counts and names the moves.
    let mail = outbox::Entity::find()
        .filter(outbox::Column::Kind.eq("publication"))
        .filter(outbox::Column::Recipient.eq("lena@kanzlei.example"))
        .all(&app.db)
        .await
        .unwrap();
    let latest = mail
        .iter()
        .find(|m| m.subject.contains("Version 2"))
        .expect("notice of version 2");
    assert!(
        latest
            .body_text
            .contains("0 neu, 0 geändert, 2 verschoben, 0 entfallen")
            && latest
                .body_text
                .contains(&format!("Verschoben (2 {first_title}): {in_first}")),
        "{}",
        latest.body_text
    );

    // The portal shows them as moved, with where they were.
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let cmp = customer
        .call("portal/compare", &[("from", "1"), ("to", "2")])
        .await;
    let changes: Vec<AnnexChange> = serde_json::from_str(&cmp.body).expect(&cmp.body);
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Moved));
    let page = customer.get("/portal?von=1&bis=2").await;
    assert!(
        page.body.contains(&format!("(vorher 1 {first_title})")),
        "{}",
        page.body
    );
    app.stop().await;
}
both!(a_category_move_reorders_the_annex_and_reads_as_moved_everywhere);

/// Downloads under load: each delivered download has its row in the audit
/// log (group-committed, the chain intact), and a download whose row cannot
/// be written is not delivered.
async fn every_delivered_download_is_logged_first(backend: Backend) {
    use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    create(
        &admin,
        category_id(&catalogue(&admin).await, "3.1"),
        "Besucher werden am Empfang registriert.",
    )
    .await;
    assert!(admin.call("annex/publish", &[]).await.status.is_success());
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let url = format!("{}/portal/anlage/v1.pdf", app.address);
    let downloads = (0..40).map(|_| {
        let c = customer.clone();
        let url = url.clone();
        async move {
            let res = c.http.get(&url).send().await.unwrap();
            (res.status(), res.bytes().await.unwrap())
        }
    });
    let answers = futures::future::join_all(downloads).await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK);
        assert!(body.starts_with(b"%PDF-"));
    }
    let logged = app::entities::audit_log::Entity::find()
        .filter(app::entities::audit_log::Column::Action.eq("download"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(logged, 40, "delivered downloads without their audit row");
    assert!(matches!(
        app::audit::service::verify(&app.db).await.unwrap(),
        app::audit::service::Verification::Intact { .. }
    ));

    // With the audit log unwritable (its head row gone), nothing is delivered.
    app.db
        .execute_unprepared("DELETE FROM audit_head")
        .await
        .unwrap();
    let res = customer.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!res.bytes().await.unwrap().starts_with(b"%PDF-"));
    app.stop().await;
}
both!(every_delivered_download_is_logged_first);
