//! Subprocessor notices (Art. 28(2) GDPR): the DPO's notice reaches every
//! customer contact through the real SMTP server process, customers object
//! in the portal with a reason until the deadline, the DPO sees each
//! objection per customer and gets a mail; nobody else can do either.

use app::domain::Role;
use app::entities::{memberships, outbox};
use app::error::AppError;
use app::notices::{NoticeList, PortalNotice};
use app::state::Clock;
use chrono::Duration;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use server::mailer::{Mailer, send_due};

use crate::both;
use crate::helpers::*;
use crate::peers::SmtpSink;

async fn ok(c: &Client, endpoint: &str, form: &[(&str, &str)]) -> String {
    let a = c.call(endpoint, form).await;
    assert_eq!(a.status, StatusCode::OK, "{endpoint}: {}", a.body);
    a.body
}

fn invalid_field(a: &Answer) -> String {
    match a.error() {
        Some(AppError::Invalid { field, .. }) => field,
        other => panic!("expected a validation error, got {other:?} ({})", a.body),
    }
}

async fn mails(app: &TestApp, kind: &str) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::Kind.eq(kind))
        .count(&app.db)
        .await
        .unwrap()
}

/// Ties a customer user's membership to a customer (what SSO or a login
/// link does on first sign-in).
pub async fn assign(
    app: &TestApp,
    org_id: app::ids::OrgId,
    user_id: app::ids::UserId,
    customer_id: &str,
) {
    memberships::Entity::update_many()
        .col_expr(
            memberships::Column::CustomerId,
            sea_orm::sea_query::Expr::value(customer_id.parse::<i32>().unwrap()),
        )
        .filter(memberships::Column::OrgId.eq(org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .exec(&app.db)
        .await
        .unwrap();
}

async fn notices_reach_every_contact_and_objections_reach_the_dpo(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;

    let kanzlei = ok(&admin, "customers/add", &[("name", "Kanzlei Hoffmann")]).await;
    let praxis = ok(&admin, "customers/add", &[("name", "Praxis Weber")]).await;
    for (customer, name, email, locale) in [
        (&kanzlei, "Lena Hoffmann", "lena@kanzlei.example", "de"),
        (&kanzlei, "Tom Baker", "tom@kanzlei.example", "en"),
        (&praxis, "Max Weber", "max@praxis.example", "de"),
    ] {
        ok(
            &admin,
            "customers/contact/add",
            &[
                ("customer_id", customer),
                ("name", name),
                ("email", email),
                ("locale", locale),
            ],
        )
        .await;
    }
    assign(&app, org.id, org.user_id(Role::Customer), &kanzlei).await;

    let old = ok(
        &admin,
        "subprocessors/save",
        &[
            ("name", "DomainFactory GmbH"),
            ("safeguard", "eu"),
            ("status", "active"),
        ],
    )
    .await;
    let new = ok(
        &admin,
        "subprocessors/save",
        &[
            ("name", "Hetzner Online GmbH"),
            ("service", "Rechenzentrumsbetrieb"),
            ("locations", "Nürnberg und Falkenstein (Deutschland)"),
            ("safeguard", "eu"),
            ("status", "planned"),
        ],
    )
    .await;
    ok(
        &admin,
        "subprocessors/attestation/add",
        &[
            ("subprocessor_id", &new),
            ("kind", "iso27001"),
            ("valid_until", "2030-12-31"),
        ],
    )
    .await;
    let foreign = {
        let c = app.client();
        c.login_ok(&other.email(Role::Admin)).await;
        ok(
            &c,
            "subprocessors/save",
            &[
                ("name", "Fremd AG"),
                ("safeguard", "eu"),
                ("status", "planned"),
            ],
        )
        .await
    };

    // Only admins issue; bad input is refused and leaves nothing behind.
    for role in [Role::Owner, Role::Auditor, Role::Staff, Role::Customer] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        let a = c.call("notices/issue", &[("subprocessor_id", &new)]).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{role:?}: {}", a.body);
    }
    let today = app::format::german_day(app.clock.now());
    let yesterday = (today - Duration::days(1)).to_string();
    let far = (today + Duration::days(400)).to_string();
    let today_s = today.to_string();
    for (form, field) in [
        (
            vec![
                ("subprocessor_id", new.as_str()),
                ("deadline", yesterday.as_str()),
            ],
            "deadline",
        ),
        (
            vec![
                ("subprocessor_id", new.as_str()),
                ("deadline", today_s.as_str()),
            ],
            "deadline",
        ),
        (
            vec![
                ("subprocessor_id", new.as_str()),
                ("deadline", far.as_str()),
            ],
            "deadline",
        ),
        (
            vec![("subprocessor_id", new.as_str()), ("deadline", "bald")],
            "deadline",
        ),
        (
            vec![
                ("subprocessor_id", new.as_str()),
                ("replaces_id", new.as_str()),
            ],
            "replaces_id",
        ),
    ] {
        let a = admin.call("notices/issue", &form).await;
        assert_eq!(invalid_field(&a), field, "{form:?}");
    }
    for form in [
        vec![("subprocessor_id", foreign.as_str())],
        vec![
            ("subprocessor_id", new.as_str()),
            ("replaces_id", foreign.as_str()),
        ],
    ] {
        let a = admin.call("notices/issue", &form).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{form:?}: {}", a.body);
    }
    assert_eq!(mails(&app, "subprocessor_notice").await, 0);
    let list: NoticeList = serde_json::from_str(&ok(&admin, "notices/list", &[]).await).unwrap();
    assert!(list.items.is_empty());
    assert_eq!(
        list.subprocessors[0].1, "Hetzner Online GmbH",
        "planned first"
    );

    // The notice, with the default deadline of 30 days.
    let id = ok(
        &admin,
        "notices/issue",
        &[
            ("subprocessor_id", &new),
            ("replaces_id", &old),
            (
                "message",
                "Wir ziehen zum 1. März in ein neues Rechenzentrum um.",
            ),
        ],
    )
    .await;
    let deadline = today + Duration::days(30);
    let german = deadline.format("%d.%m.%Y").to_string();
    assert_eq!(mails(&app, "subprocessor_notice").await, 3);

    let sink = SmtpSink::start();
    let mailer = Mailer::new(&sink.smtp_config()).unwrap();
    send_due(&app.db, &mailer, app.clock.now(), "node-a")
        .await
        .unwrap();
    let msgs = sink.messages();
    let mut to: Vec<&str> = msgs.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "lena@kanzlei.example",
            "max@praxis.example",
            "tom@kanzlei.example"
        ]
    );
    let lena = msgs
        .iter()
        .find(|m| m.to == "lena@kanzlei.example")
        .unwrap();
    assert_eq!(
        lena.subject,
        format!(
            "acme GmbH: geplanter Wechsel des Unterauftragsverarbeiters DomainFactory GmbH zu Hetzner Online GmbH – Einspruch bis {german}"
        )
    );
    for needle in [
        "Nürnberg und Falkenstein (Deutschland)",
        "ISO/IEC 27001, gültig bis 31.12.2030",
        "Wir ziehen zum 1. März in ein neues Rechenzentrum um.",
        &format!("bis einschließlich {german}"),
        &format!("{}/portal#mitteilung-{id}", app.address),
    ] {
        assert!(lena.text.contains(needle), "{needle}: {}", lena.text);
    }
    let tom = msgs.iter().find(|m| m.to == "tom@kanzlei.example").unwrap();
    assert!(
        tom.subject.contains(&format!("objections until {german}")),
        "{}",
        tom.subject
    );

    // The customer sees it in the portal and may object; others may not.
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let seen: Vec<PortalNotice> =
        serde_json::from_str(&ok(&customer, "portal/notices", &[]).await).unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].subprocessor, "Hetzner Online GmbH");
    assert_eq!(seen[0].replaces.as_deref(), Some("DomainFactory GmbH"));
    assert_eq!(seen[0].deadline, deadline);
    assert!(seen[0].can_object && seen[0].objection.is_none());
    let page = customer.get("/portal").await;
    assert!(
        page.body
            .contains("Geplant: Hetzner Online GmbH ersetzt DomainFactory GmbH"),
        "{}",
        page.body
    );

    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Customer)).await;
    let theirs: Vec<PortalNotice> =
        serde_json::from_str(&ok(&stranger, "portal/notices", &[]).await).unwrap();
    assert!(theirs.is_empty(), "another organisation's notices");
    let a = stranger
        .call(
            "portal/notices/object",
            &[("notice_id", &id), ("reason", "Nein.")],
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    let staff = app.client();
    staff.login_ok(&org.email(Role::Staff)).await;
    let a = staff
        .call(
            "portal/notices/object",
            &[("notice_id", &id), ("reason", "Nein.")],
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(
        staff.call("notices/list", &[]).await.status,
        StatusCode::FORBIDDEN
    );

    let a = customer
        .call(
            "portal/notices/object",
            &[("notice_id", &id), ("reason", "   ")],
        )
        .await;
    assert_eq!(invalid_field(&a), "reason");
    let reason = "Hetzner ist in unserem Datenschutzkonzept nicht vorgesehen.";
    ok(
        &customer,
        "portal/notices/object",
        &[("notice_id", &id), ("reason", reason)],
    )
    .await;
    let a = customer
        .call(
            "portal/notices/object",
            &[("notice_id", &id), ("reason", "Noch einmal.")],
        )
        .await;
    assert!(a.body.contains("bereits Einspruch"), "{}", a.body);
    let seen: Vec<PortalNotice> =
        serde_json::from_str(&ok(&customer, "portal/notices", &[]).await).unwrap();
    assert!(!seen[0].can_object);
    assert_eq!(
        seen[0].objection.as_ref().map(|o| o.reason.as_str()),
        Some(reason)
    );

    // The DPO sees the objection per customer, and gets a mail.
    for reader in [Role::Admin, Role::Auditor] {
        let c = app.client();
        c.login_ok(&org.email(reader)).await;
        let list: NoticeList = serde_json::from_str(&ok(&c, "notices/list", &[]).await).unwrap();
        assert_eq!(list.can_issue, reader == Role::Admin);
        let n = &list.items[0];
        assert_eq!(n.recipients, 3);
        assert_eq!(n.objections.len(), 1);
        assert_eq!(n.objections[0].customer, "Kanzlei Hoffmann");
        assert_eq!(n.objections[0].reason, reason);
        assert_eq!(n.without_objection, ["Praxis Weber"]);
    }
    let page = admin.get("/unterauftragsverarbeiter").await;
    assert!(page.body.contains(reason), "{}", page.body);
    send_due(&app.db, &mailer, app.clock.now(), "node-a")
        .await
        .unwrap();
    let to_dpo: Vec<_> = sink
        .messages()
        .into_iter()
        .filter(|m| m.to == org.email(Role::Admin))
        .collect();
    assert_eq!(to_dpo.len(), 1);
    assert_eq!(
        to_dpo[0].subject,
        "Einspruch von Kanzlei Hoffmann gegen Hetzner Online GmbH"
    );
    assert!(to_dpo[0].text.contains(reason), "{}", to_dpo[0].text);

    // A deadline set by the DPO holds: objecting works until the last minute
    // of the deadline day (German time), and is refused from the next day.
    let deadline_day = today + Duration::days(1);
    let tomorrow = deadline_day.to_string();
    let on_time = ok(
        &admin,
        "notices/issue",
        &[("subprocessor_id", &new), ("deadline", &tomorrow)],
    )
    .await;
    let short = ok(
        &admin,
        "notices/issue",
        &[("subprocessor_id", &new), ("deadline", &tomorrow)],
    )
    .await;
    let last_minute = deadline_day
        .and_hms_opt(23, 59, 0)
        .unwrap()
        .and_local_timezone(chrono_tz::Europe::Berlin)
        .unwrap()
        .with_timezone(&chrono::Utc);
    app.clock.set(last_minute);
    let before = mails(&app, "objection").await;
    ok(
        &customer,
        "portal/notices/object",
        &[
            ("notice_id", &on_time),
            ("reason", "Gerade noch rechtzeitig."),
        ],
    )
    .await;
    assert!(
        mails(&app, "objection").await > before,
        "the objection reached the DPO"
    );
    let before = mails(&app, "objection").await;
    app.clock.advance(Duration::minutes(2));
    let a = customer
        .call(
            "portal/notices/object",
            &[("notice_id", &short), ("reason", "Zu spät.")],
        )
        .await;
    assert_eq!(invalid_field(&a), "reason");
    assert!(a.body.contains("abgelaufen"), "{}", a.body);
    assert_eq!(mails(&app, "objection").await, before, "nothing stored");
    app.stop().await;
}
both!(notices_reach_every_contact_and_objections_reach_the_dpo);

async fn a_customer_user_without_a_customer_cannot_object(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let sub = ok(
        &admin,
        "subprocessors/save",
        &[
            ("name", "Hetzner Online GmbH"),
            ("safeguard", "eu"),
            ("status", "planned"),
        ],
    )
    .await;
    let id = ok(&admin, "notices/issue", &[("subprocessor_id", &sub)]).await;
    assert_eq!(
        mails(&app, "subprocessor_notice").await,
        0,
        "no contacts yet"
    );
    let customer = app.client();
    customer.login_ok(&org.email(Role::Customer)).await;
    let seen: Vec<PortalNotice> =
        serde_json::from_str(&ok(&customer, "portal/notices", &[]).await).unwrap();
    assert!(!seen[0].can_object);
    let a = customer
        .call(
            "portal/notices/object",
            &[("notice_id", &id), ("reason", "Nein.")],
        )
        .await;
    assert!(a.body.contains("keinem Kunden zugeordnet"), "{}", a.body);
    app.stop().await;
}
both!(a_customer_user_without_a_customer_cannot_object);
