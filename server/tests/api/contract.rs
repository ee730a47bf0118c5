//! The AVV concluded in the portal: the DPO offers the sealed contract, a
//! customer user accepts exactly that document, the concluded contract is
//! sealed again and never changes; a new text makes a new offer while the
//! concluded one stays valid.

use app::contract::{ContractOverview, ContractStanding, PortalContract};
use app::domain::Role;
use app::state::Clock;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};

use crate::both;
use crate::helpers::*;

/// Particulars, a contract text, Anlage 1 and Anlage 2 for a new customer
/// of `c`'s organisation, whose services use a new subprocessor `hoster`;
/// its id. `subject` is the first particular. Any number of times in one
/// organisation.
pub async fn ready_customer(c: &Client, name: &str, subject: &str, hoster: &str) -> String {
    let customer = c.call("customers/add", &[("name", name)]).await;
    assert_eq!(customer.status, StatusCode::OK, "{}", customer.body);
    let customer = customer.body;
    make_ready(c, &customer, subject, hoster).await;
    customer
}

/// [`ready_customer`] for a customer that exists.
pub async fn make_ready(c: &Client, customer: &str, subject: &str, hoster: &str) {
    let name = customer;
    let cat = crate::catalogue::catalogue(c).await;
    crate::catalogue::create(
        c,
        crate::catalogue::category_id(&cat, "3.2"),
        &format!("Anmeldung nur mit zweitem Faktor ({name})."),
    )
    .await;
    let hoster = c
        .call(
            "subprocessors/save",
            &[
                ("name", hoster),
                ("locations", "Hamburg"),
                ("safeguard", "eu"),
                ("status", "active"),
            ],
        )
        .await
        .body;
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
    let a = crate::reviews::post(c, &format!("/kunden/{customer}/angaben"), &form).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    save_text(
        c,
        "## § 1 Gegenstand\n\nDieser Vertrag regelt die Verarbeitung.",
    )
    .await;
    let a = c.call("annex/publish", &[]).await;
    assert!(a.status.is_success(), "{}", a.body);
    let a = c.call("subprocessors/anlage2/publish", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

async fn save_text(c: &Client, body: &str) {
    let a = c
        .call(
            "avv/save",
            &[
                ("locale", "de"),
                ("title", "Vertrag über die Auftragsverarbeitung"),
                ("body", body),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

async fn overview(c: &Client) -> ContractOverview {
    let a = c.call("contract/overview", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

async fn portal(c: &Client) -> Option<PortalContract> {
    let a = c.call("contract/portal", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

async fn download(c: &Client, path: &str) -> (StatusCode, Vec<u8>) {
    let res = c
        .http
        .get(format!("{}{path}", c.base))
        .send()
        .await
        .unwrap();
    (res.status(), res.bytes().await.unwrap().to_vec())
}

async fn acceptances(app: &TestApp) -> u64 {
    app::entities::contract_acceptances::Entity::find()
        .count(&app.db)
        .await
        .unwrap()
}

/// Runs what the worker runs after a change: new offers.
async fn reoffer(app: &TestApp) -> usize {
    let setup = server::secrets::signing_setup(&app.config).unwrap();
    app::contract::service::reoffer_changed(
        &app.db,
        &setup,
        "http://nachweis.test",
        app.clock.now(),
    )
    .await
    .unwrap()
}

async fn the_contract_is_offered_accepted_sealed_and_offered_again_after_a_change(
    backend: Backend,
) {
    use crate::annex::pdftotext;
    use crate::publish::pdfsig;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let dpo = app.client();
    dpo.login_ok(&org.email(Role::Admin)).await;

    // Particulars missing: the offer is refused with the missing fields named.
    let early = dpo
        .call("customers/add", &[("name", "Ohne Angaben")])
        .await
        .body;
    let a = dpo.call("contract/offer", &[("customer_id", &early)]).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert!(
        a.body.contains("Gegenstand und Dauer der Verarbeitung")
            && a.body
                .contains("Frist für Meldungen von Datenschutzverletzungen"),
        "{}",
        a.body
    );

    let subject = "Hosting *fett* #Kanal _x_ $y$ <b>";
    let customer =
        ready_customer(&dpo, "Kanzlei Beispiel", subject, "Rechenzentrum Nord GmbH").await;
    let kunde = app.client();
    kunde.login_ok(&org.email(Role::Customer)).await;
    crate::notices::assign(&app, org.id, org.user_id(Role::Customer), &customer).await;
    assert_eq!(portal(&kunde).await, None, "nothing offered yet");

    // Only admins offer.
    for role in [Role::Auditor, Role::Owner, Role::Staff, Role::Customer] {
        let x = app.client();
        x.login_ok(&org.email(role)).await;
        let a = x
            .call("contract/offer", &[("customer_id", &customer)])
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?}: {}", a.body);
    }
    let a = dpo
        .call("contract/offer", &[("customer_id", &customer)])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body, "1");
    // The same contract again is no new offer.
    let a = dpo
        .call("contract/offer", &[("customer_id", &customer)])
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    let row = overview(&dpo)
        .await
        .rows
        .into_iter()
        .find(|r| r.customer_id.to_string() == customer)
        .unwrap();
    assert_eq!(row.standing, ContractStanding::Offered);
    assert!(!row.changed);

    // The customer user reads the offer.
    let offered = portal(&kunde).await.expect("offered");
    let pending = offered.pending.clone().expect("pending");
    let offer_id = pending.offer.id.to_string();
    assert!(pending.particulars.iter().any(|(_, t)| t == subject));
    assert_eq!(pending.subprocessors, vec!["Rechenzentrum Nord GmbH"]);
    let (status, offer_pdf) =
        download(&kunde, &format!("/avv-abschluss/{offer_id}/angebot.pdf")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&offer_pdf)),
        pending.offer.sha256,
        "the portal names the hash of the document it serves"
    );
    let (valid, whole, out) = pdfsig(&offer_pdf);
    assert!(valid && whole, "{out}");

    let name = "customer acme";
    let accept = |c: &Client, sha: &str, typed: &str, password: &str| {
        let (c, sha, typed, password, offer_id) = (
            c.clone(),
            sha.to_owned(),
            typed.to_owned(),
            password.to_owned(),
            offer_id.clone(),
        );
        async move {
            c.call(
                "contract/accept",
                &[
                    ("offer_id", offer_id.as_str()),
                    ("sha256", sha.as_str()),
                    ("typed_name", typed.as_str()),
                    ("function", "Geschäftsführerin"),
                    ("password", password.as_str()),
                    ("confirm", "ja"),
                ],
            )
            .await
        }
    };
    // Nobody accepts on the customer's behalf.
    for role in [Role::Admin, Role::Owner, Role::Staff, Role::Auditor] {
        let x = app.client();
        x.login_ok(&org.email(role)).await;
        let a = accept(&x, &pending.offer.sha256, name, PASSWORD).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?}: {}", a.body);
    }
    // A name that is not the account's, a wrong password, a stale document: refused, nothing stored.
    let a = accept(&kunde, &pending.offer.sha256, "Erika Mustermann", PASSWORD).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert!(a.body.contains(name), "{}", a.body);
    let a = accept(&kunde, &pending.offer.sha256, name, "falsch").await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    let stale = "0".repeat(64);
    let a = accept(&kunde, &stale, name, PASSWORD).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert_eq!(acceptances(&app).await, 0);

    // Accepted, through a client that claims another address: the record
    // holds the connection's.
    let a = kunde
        .http
        .post(format!("{}/api/contract/accept", kunde.base))
        .header("Accept", "application/json")
        .header("X-Forwarded-For", "203.0.113.77")
        .header("User-Agent", "Testbrowser/1.0")
        .form(&[
            ("offer_id", offer_id.as_str()),
            ("sha256", pending.offer.sha256.as_str()),
            ("typed_name", "  Customer   ACME "),
            ("function", "Geschäftsführerin"),
            ("password", PASSWORD),
            ("confirm", "ja"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), StatusCode::OK, "{}", a.text().await.unwrap());
    let at = app::format::german_datetime(app.clock.now());
    // Twice: one record.
    let a = accept(&kunde, &pending.offer.sha256, name, PASSWORD).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert_eq!(acceptances(&app).await, 1);

    let path = format!("/avv-abschluss/{offer_id}/vertrag.pdf");
    let (status, concluded) = download(&kunde, &path).await;
    assert_eq!(status, StatusCode::OK);
    let (valid, whole, out) = pdfsig(&concluded);
    assert!(valid, "{out}");
    assert!(whole, "the signature covers the whole document: {out}");
    let text = pdftotext(&concluded)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let find = |needle: &str, from: usize| {
        text[from..]
            .find(needle)
            .map(|i| i + from)
            .unwrap_or_else(|| panic!("{needle:?} after {from} in {text}"))
    };
    let mut pos = find("Angaben zur Verarbeitung", 0);
    pos = find(subject, pos);
    pos = find("spätestens 24 Stunden", pos);
    let annex = app::annex::publish::snapshot(&app.db, org.id, 1)
        .await
        .unwrap();
    assert!(!annex.annex.sections.is_empty());
    for s in &annex.annex.sections {
        pos = find(&format!("{} {}", s.number, s.title), pos);
    }
    pos = find("Rechenzentrum Nord GmbH", pos);
    pos = find("Abschlussprotokoll", pos);
    let protocol = pos;
    find(&pending.offer.sha256, protocol);
    find("Customer ACME", protocol);
    find("Geschäftsführerin", protocol);
    find(&at, protocol);
    find("127.0.0.1", protocol);
    find("Testbrowser/1.0", protocol);
    assert!(!text.contains("203.0.113.77"), "a client-supplied address");

    // The DPO and the auditor download the same bytes; staff may not;
    // another organisation and another customer's user find nothing.
    for role in [Role::Admin, Role::Auditor] {
        let x = app.client();
        x.login_ok(&org.email(role)).await;
        assert_eq!(
            download(&x, &path).await,
            (StatusCode::OK, concluded.clone())
        );
    }
    for (who, role, status) in [
        (&org, Role::Staff, StatusCode::FORBIDDEN),
        (&org, Role::Owner, StatusCode::FORBIDDEN),
        (&other, Role::Admin, StatusCode::NOT_FOUND),
        (&other, Role::Customer, StatusCode::NOT_FOUND),
    ] {
        let x = app.client();
        x.login_ok(&who.email(role)).await;
        assert_eq!(download(&x, &path).await.0, status, "{role:?}");
        let a = x.call("contract/overview", &[]).await;
        if role == Role::Admin {
            assert!(
                !a.body.contains("Kanzlei Beispiel"),
                "another organisation's overview lists this customer"
            );
        } else {
            assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?}");
        }
    }
    let row = overview(&dpo)
        .await
        .rows
        .into_iter()
        .find(|r| r.customer_id.to_string() == customer)
        .unwrap();
    assert_eq!(row.standing, ContractStanding::Accepted);
    let (_, a) = row.concluded.clone().unwrap();
    assert_eq!(
        (a.typed_name.as_str(), a.function.as_str()),
        ("Customer ACME", "Geschäftsführerin")
    );

    // A new text: the worker offers the new contract; the concluded one
    // stays downloadable byte for byte; the overview says "veraltet".
    assert_eq!(reoffer(&app).await, 0, "nothing changed yet");
    save_text(&dpo, "## § 1 Gegenstand\n\nDieser Vertrag regelt die Verarbeitung.\n\n## § 2 Dauer\n\nWie der Hauptvertrag.").await;
    assert!(overview(&dpo).await.rows.iter().any(|r| r.changed));
    assert_eq!(reoffer(&app).await, 1);
    assert_eq!(reoffer(&app).await, 0, "one new offer, not one per pass");
    let row = overview(&dpo)
        .await
        .rows
        .into_iter()
        .find(|r| r.customer_id.to_string() == customer)
        .unwrap();
    assert_eq!(row.standing, ContractStanding::Outdated);
    assert_eq!(row.standing.label(), "veraltet");
    assert_eq!(row.newest.as_ref().unwrap().text_version, 2);
    assert_eq!(
        download(&kunde, &path).await,
        (StatusCode::OK, concluded.clone())
    );
    let again = portal(&kunde).await.unwrap();
    let second = again.pending.expect("the new offer");
    assert_eq!(second.offer.number, 2);
    assert!(again.concluded.is_some(), "the concluded contract stays");
    // The first offer's document can no longer be accepted.
    let a = accept(&kunde, &pending.offer.sha256, name, PASSWORD).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    let a = kunde
        .call(
            "contract/accept",
            &[
                ("offer_id", second.offer.id.to_string().as_str()),
                ("sha256", second.offer.sha256.as_str()),
                ("typed_name", name),
                ("function", "Geschäftsführerin"),
                ("password", PASSWORD),
                ("confirm", "ja"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let row = overview(&dpo)
        .await
        .rows
        .into_iter()
        .find(|r| r.customer_id.to_string() == customer)
        .unwrap();
    assert_eq!(row.standing, ContractStanding::Accepted);
    assert_eq!(row.concluded.unwrap().0.number, 2);

    // Another customer's user of the same organisation: as if it did not exist.
    let second_customer = dpo
        .call("customers/add", &[("name", "Andere Kanzlei")])
        .await
        .body;
    crate::notices::assign(&app, org.id, org.user_id(Role::Customer), &second_customer).await;
    assert_eq!(download(&kunde, &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(portal(&kunde).await, None);
    app.stop().await;
}
both!(the_contract_is_offered_accepted_sealed_and_offered_again_after_a_change);

async fn outbox(app: &TestApp, kind: &str) -> Vec<app::entities::outbox::Model> {
    use sea_orm::{ColumnTrait, QueryFilter};
    app::entities::outbox::Entity::find()
        .filter(app::entities::outbox::Column::Kind.eq(kind))
        .all(&app.db)
        .await
        .unwrap()
}

/// The DPO's view of who has concluded: customers without a concluded AVV
/// are on the dashboard (and so in the digest); the contacts get one offer
/// mail, and after 14 days one reminder, however often the worker runs;
/// the overview is a CSV for admins and auditors.
async fn the_contract_overview_is_exported_and_reminded(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let dpo = app.client();
    dpo.login_ok(&org.email(Role::Admin)).await;
    let customer = ready_customer(&dpo, "Kanzlei Beispiel", "Hosting.", "Rechenzentrum Nord").await;
    let a = dpo
        .call(
            "customers/contact/add",
            &[
                ("customer_id", &customer),
                ("name", "Frau Beispiel"),
                ("email", "beispiel@kanzlei.example"),
                ("locale", "de"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);

    // Not offered yet: on the dashboard.
    let dashboard = |c: Client| async move {
        let a = c.call("reminders/dashboard", &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        serde_json::from_str::<app::reminders::Attention>(&a.body).unwrap()
    };
    let open = dashboard(dpo.clone()).await.contracts_open;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].standing, ContractStanding::NotOffered);
    assert!(open[0].line(true).contains("noch kein AVV angeboten"));

    let a = dpo
        .call("contract/offer", &[("customer_id", &customer)])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let offers = outbox(&app, "contract_offer").await;
    assert_eq!(offers.len(), 1);
    assert_eq!(offers[0].recipient, "beispiel@kanzlei.example");
    assert!(
        offers[0].subject.contains("zur Annahme"),
        "{}",
        offers[0].subject
    );
    assert!(
        offers[0].body_text.contains("/portal#avv"),
        "{}",
        offers[0].body_text
    );
    let open = dashboard(dpo.clone()).await.contracts_open;
    assert_eq!(open[0].standing, ContractStanding::Offered);
    // The auditor reads it too; an owner's dashboard does not name customers.
    for (role, listed) in [(Role::Auditor, 1), (Role::Owner, 0)] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        assert_eq!(
            dashboard(c.clone()).await.contracts_open.len(),
            listed,
            "{role:?}"
        );
        let start = c.call("home/start", &[]).await;
        assert_eq!(start.status, StatusCode::OK, "{}", start.body);
        assert_eq!(
            start.body.contains("Kanzlei Beispiel"),
            listed > 0,
            "{role:?}: {}",
            start.body
        );
    }

    // The DPO's daily digest names the customer too (the owner's does not).
    app::reminders::service::run_digest(&app.db, app.clock.now(), "node-a", &app.address)
        .await
        .unwrap();
    let digests = outbox(&app, "digest").await;
    let to = |email: &str| digests.iter().find(|m| m.recipient == email);
    let admin_digest = to(&org.email(Role::Admin)).expect("a digest for the DPO");
    assert!(
        admin_digest
            .body_text
            .contains("Kunden ohne geschlossenen oder mit veraltetem AVV")
            && admin_digest
                .body_text
                .contains("Kanzlei Beispiel: angeboten seit"),
        "{}",
        admin_digest.body_text
    );
    assert!(
        to(&org.email(Role::Owner)).is_none_or(|m| !m.body_text.contains("Kanzlei Beispiel")),
        "an owner's digest names no customer"
    );

    // The reminder: not before 14 days, then once.
    let remind = || async {
        app::contract::service::remind(&app.db, app.clock.now(), "http://nachweis.test")
            .await
            .unwrap()
    };
    assert_eq!(remind().await, 0);
    app.clock.advance(chrono::Duration::days(13));
    assert_eq!(remind().await, 0);
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(remind().await, 1);
    assert_eq!(remind().await, 0, "once per offer");
    let reminders = outbox(&app, "contract_reminder").await;
    assert_eq!(reminders.len(), 1);
    assert!(
        reminders[0].subject.starts_with("Erinnerung"),
        "{}",
        reminders[0].subject
    );

    // The CSV: admins and auditors.
    let csv = dpo.get("/avv-abschluss.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.body.lines();
    assert!(lines.next().unwrap().starts_with("Kunde;Stand;Angebot;"));
    assert!(
        csv.body.contains("Kanzlei Beispiel;angeboten;1;"),
        "{}",
        csv.body
    );
    for (role, status) in [
        (Role::Auditor, StatusCode::OK),
        (Role::Staff, StatusCode::FORBIDDEN),
        (Role::Customer, StatusCode::FORBIDDEN),
    ] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        assert_eq!(c.get("/avv-abschluss.csv").await.status, status, "{role:?}");
    }
    app.stop().await;
}
both!(the_contract_overview_is_exported_and_reminded);
