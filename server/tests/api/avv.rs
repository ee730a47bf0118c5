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

/// The particulars of the processing per customer: what is missing before
/// the AVV can be offered, saved by a plain form (with and without
/// JavaScript), only by the customer's own organisation's admins, and only
/// with that organisation's subprocessors.
async fn particulars_are_kept_per_customer(backend: Backend) {
    use app::customers::CustomerView;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let customer = c
        .call("customers/add", &[("name", "Kanzlei Beispiel")])
        .await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let customer = customer.body;
    let sub = |c: &Client, name: &'static str| {
        let c = c.clone();
        async move {
            let a = c
                .call(
                    "subprocessors/save",
                    &[("name", name), ("safeguard", "eu"), ("status", "active")],
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            a.body
        }
    };
    let ours = sub(&c, "Rechenzentrum GmbH").await;
    let theirs_admin = app.client();
    theirs_admin.login_ok(&other.email(Role::Admin)).await;
    let theirs = sub(&theirs_admin, "Fremd GmbH").await;

    let listed = |c: &Client| {
        let c = c.clone();
        async move {
            let a = c.call("customers/list", &[]).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            serde_json::from_str::<Vec<CustomerView>>(&a.body).unwrap()
        }
    };
    let missing = listed(&c).await[0].particulars.missing();
    assert_eq!(missing.len(), 9, "{missing:?}");
    let page = c.get("/kunden").await.body.replace("<!>", "");
    assert!(
        page.contains("Für das AVV-Angebot fehlen noch: Gegenstand und Dauer der Verarbeitung"),
        "{page}"
    );

    let path = format!("/kunden/{customer}/angaben");
    let mut form: Vec<(&str, &str)> = vec![
        (
            "subject",
            "Hosting der Website, Laufzeit des Hauptvertrags.",
        ),
        ("purpose", "Hosting und Wartung."),
        ("data_types", "Kontaktdaten."),
        ("data_subjects", "Kunden des Verantwortlichen."),
        ("services", "Hosting-Paket."),
        ("instructors", "Frau Beispiel, Geschäftsführerin."),
        ("controller_dpo", "nicht benannt"),
        ("breach_deadline", "unverzüglich, spätestens 24 Stunden"),
        ("sub", &ours),
    ];
    // Another organisation's subprocessor is refused, and nothing is saved.
    let mut foreign = form.clone();
    foreign.push(("sub", &theirs));
    let a = crate::reviews::post(&c, &path, &foreign).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(listed(&c).await[0].particulars.missing().len(), 9);
    // Other roles and other organisations' admins do not save.
    for (who, role, status) in [
        (&org, Role::Auditor, StatusCode::FORBIDDEN),
        (&org, Role::Staff, StatusCode::FORBIDDEN),
        (&other, Role::Admin, StatusCode::NOT_FOUND),
    ] {
        let x = app.client();
        x.login_ok(&who.email(role)).await;
        assert_eq!(
            crate::reviews::post(&x, &path, &form).await.status,
            status,
            "{role:?}"
        );
    }
    assert_eq!(listed(&c).await[0].particulars.missing().len(), 9);

    // The admin saves; nothing is missing any more.
    let a = crate::reviews::post(&c, &path, &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let p = listed(&c).await[0].particulars.clone();
    assert!(p.missing().is_empty(), "{:?}", p.missing());
    assert_eq!(p.subprocessors.len(), 1);
    assert_eq!(p.subprocessors[0].to_string(), ours);
    assert_eq!(p.breach_deadline, "unverzüglich, spätestens 24 Stunden");

    // Without JavaScript: back to the card, confirmed; an error comes back
    // there too. No subprocessor is a choice as well.
    form.retain(|(k, _)| *k != "sub");
    form[0] = ("subject", " ");
    let long = "x".repeat(4001);
    let mut too_long = form.clone();
    too_long[1] = ("purpose", &long);
    let res = browser_post(&c, &path, &too_long).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        to.starts_with(&format!("/kunden?kunde={customer}&fehler=")),
        "{to}"
    );
    assert!(to.ends_with(&format!("#kunde-{customer}")), "{to}");
    let page = c
        .get(to.split('#').next().unwrap())
        .await
        .body
        .replace("<!>", "");
    let card = page
        .split(&format!(r#"id="kunde-{customer}""#))
        .nth(1)
        .unwrap();
    assert!(card.contains("data-test=\"error-summary\""), "{card}");
    assert!(card.contains("ist zu lang"), "{card}");

    let res = browser_post(&c, &path, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        to,
        format!("/kunden?kunde={customer}&gespeichert=1#kunde-{customer}")
    );
    let page = c
        .get(to.split('#').next().unwrap())
        .await
        .body
        .replace("<!>", "");
    assert!(page.contains("Angaben gespeichert."), "{page}");
    let p = listed(&c).await[0].particulars.clone();
    assert!(p.subprocessors.is_empty() && p.chosen);
    assert_eq!(p.missing(), ["Gegenstand und Dauer der Verarbeitung"]);

    // Each save is in the log, with before and after.
    let log = c
        .call(
            "audit/page",
            &[("filter[action]", "particulars"), ("page", "1")],
        )
        .await;
    let log: app::audit::AuditLogPage = serde_json::from_str(&log.body).unwrap();
    assert_eq!(log.entries.len(), 2, "{log:?}");
    app.stop().await;
}
both!(particulars_are_kept_per_customer);

/// A form posted as a browser without JavaScript does.
async fn browser_post(c: &Client, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    c.http
        .post(format!("{}{path}", c.base))
        .header("Accept", "text/html")
        .form(form)
        .send()
        .await
        .unwrap()
}

/// The contract for one customer, as the DPO previews it before offering:
/// refused while something is missing (named), then one PDF holding, in
/// order, the particulars, every section heading of the published TOM
/// annex (Anlage 1), this customer's subprocessors from the published
/// Anlage 2, and the closing protocol. Markup in a particular is text.
async fn the_contract_draft_holds_text_particulars_and_both_annexes(backend: Backend) {
    use crate::annex::pdftotext;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let customer = c
        .call("customers/add", &[("name", "Kanzlei Beispiel")])
        .await
        .body;
    let path = format!("/kunden/{customer}/avv-entwurf.pdf");
    let get = |c: &Client| {
        let (c, path) = (c.clone(), path.clone());
        async move {
            let res = c
                .http
                .get(format!("{}{path}", c.base))
                .send()
                .await
                .unwrap();
            (res.status(), res.bytes().await.unwrap().to_vec())
        }
    };
    // Nothing there yet: the missing particulars are named.
    let (status, body) = get(&c).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let body = String::from_utf8(body).unwrap();
    assert!(
        body.contains("Gegenstand und Dauer der Verarbeitung")
            && body.contains("Unterauftragsverarbeiter dieses Kunden"),
        "{body}"
    );

    let cat = crate::catalogue::catalogue(&c).await;
    crate::catalogue::create(
        &c,
        crate::catalogue::category_id(&cat, "3.2"),
        "Anmeldung nur mit zweitem Faktor.",
    )
    .await;
    let hoster = c
        .call(
            "subprocessors/save",
            &[
                ("name", "Rechenzentrum Nord GmbH"),
                ("locations", "Hamburg"),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
        )
        .await
        .body;
    let subject = "Hosting *fett* #Kanal _x_ $y$ <b>";
    let form: Vec<(&str, &str)> = vec![
        ("subject", subject),
        ("purpose", "Betrieb und Wartung."),
        ("data_types", "Kontaktdaten."),
        ("data_subjects", "Mandanten des Verantwortlichen."),
        ("services", "Website und Mandantenportal."),
        ("instructors", "Frau Beispiel, Geschäftsführerin."),
        ("controller_dpo", "Herr Datenschutz, dsb@kanzlei.example"),
        ("breach_deadline", "unverzüglich, spätestens 24 Stunden"),
        ("sub", &hoster),
    ];
    let a = crate::reviews::post(&c, &format!("/kunden/{customer}/angaben"), &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // Still refused: no contract text, then no Anlage 1, then no Anlage 2.
    let (status, body) = get(&c).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        String::from_utf8(body)
            .unwrap()
            .contains("AVV-Vertragstext")
    );
    save(
        &c,
        "de",
        "Vertrag über die Auftragsverarbeitung",
        "## § 1 Gegenstand\n\nDieser Vertrag regelt die Verarbeitung.",
    )
    .await;
    let (status, body) = get(&c).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(String::from_utf8(body).unwrap().contains("TOM-Anlage"));
    let a = c.call("annex/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let (status, body) = get(&c).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(String::from_utf8(body).unwrap().contains("Anlage 2"));
    let a = c.call("subprocessors/anlage2/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    let (status, pdf) = get(&c).await;
    assert_eq!(status, StatusCode::OK);
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let at = |needle: &str, from: usize| {
        text[from..]
            .find(needle)
            .map(|i| i + from)
            .unwrap_or_else(|| panic!("{needle:?} after {from} in {text}"))
    };
    let mut pos = at("§ 1 Gegenstand", 0);
    pos = at("Angaben zur Verarbeitung", pos);
    // The particular exactly as typed: no markup was evaluated.
    pos = at(subject, pos);
    pos = at("spätestens 24 Stunden", pos);
    pos = at("Anlage 1", pos);
    let annex = app::annex::publish::snapshot(&app.db, org.id, 1)
        .await
        .unwrap();
    assert!(!annex.annex.sections.is_empty());
    for s in &annex.annex.sections {
        pos = at(&format!("{} {}", s.number, s.title), pos);
    }
    pos = at("Anlage 2", pos);
    pos = at("Rechenzentrum Nord GmbH", pos);
    at("Abschlussprotokoll", pos);

    // Auditors read it; staff and customers do not; another organisation
    // finds no such customer.
    for (who, role, status) in [
        (&org, Role::Auditor, StatusCode::OK),
        (&org, Role::Staff, StatusCode::FORBIDDEN),
        (&org, Role::Customer, StatusCode::FORBIDDEN),
        (&other, Role::Admin, StatusCode::NOT_FOUND),
    ] {
        let x = app.client();
        x.login_ok(&who.email(role)).await;
        assert_eq!(get(&x).await.0, status, "{role:?}");
    }
    app.stop().await;
}
both!(the_contract_draft_holds_text_particulars_and_both_annexes);
