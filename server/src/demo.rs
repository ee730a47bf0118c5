//! The demo data: ConRat WebSolutions GmbH and clickbits GmbH, built from the
//! two real TOM annexes in `server/demo/`. Every paragraph of a seed becomes
//! a measure in the category its heading names.

use app::audit::service::AuditActor;
use app::domain::{EmailAddress, MeasureStatus, Role, ShortName};
use app::entities::BeginWrite;
use app::entities::{categories, organisations};
use app::error::AppResult;
use app::ids::OrgId;
use app::ids::UserId;
use app::subprocessors::{AttestationKind, Safeguard, SubStatus};
use app::toms::import::{self, Place};
use app::toms::service::{MeasureInput, insert_measure};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};

pub const DEMO_PASSWORD: &str = "Nachweis-Demo-2026";

/// A seed document split into its introduction and (category kind, paragraph) pairs.
#[derive(Debug, Default, PartialEq)]
pub struct ParsedAnnex {
    pub intro: Vec<String>,
    pub sections: Vec<(&'static str, String)>,
}

/// Splits a seed annex with the importer's parser: the introduction, then
/// every paragraph under a recognised heading. The seeds have nothing
/// unmapped but the cookie banner after their "Stand:" line.
pub fn parse_annex(text: &str) -> ParsedAnnex {
    let mut out = ParsedAnnex::default();
    for block in import::parse(text).unwrap_or_default() {
        match (block.place, block.kind) {
            (Place::Intro, _) => out.intro.push(block.text),
            (Place::Body, Some(kind)) => out.sections.push((kind, block.text)),
            _ => {}
        }
    }
    out
}

struct Person {
    email: &'static str,
    name: &'static str,
    role: Role,
}

struct DemoOrg {
    short: &'static str,
    legal: &'static str,
    display_short: &'static str,
    address: &'static str,
    dpo: &'static str,
    seed: &'static str,
    people: &'static [Person],
    /// Category kinds whose measures the first owner is responsible for.
    owned: &'static [&'static str],
    /// The data-centre operator the seed's measures rely on.
    data_centre: DemoSubprocessor,
    /// The customer (controller) the demo customer person belongs to, and its AVV reference.
    customer: (&'static str, &'static str),
    /// That customer's particulars of the processing, in the order of
    /// `app::customers::PARTICULARS`.
    particulars: [&'static str; 8],
}

struct DemoSubprocessor {
    name: &'static str,
    address: &'static str,
    service: &'static str,
    locations: &'static str,
    safeguard: Safeguard,
    /// (kind, issuer, scope, days from today until it expires)
    attestation: (AttestationKind, &'static str, &'static str, Option<i64>),
}

const ORGS: &[DemoOrg] = &[
    DemoOrg {
        short: "conrat",
        legal: "ConRat WebSolutions GmbH",
        display_short: "ConRat",
        address: "Musterstraße 1\n12345 Musterstadt",
        dpo: "Katrin Vogel, datenschutz@conrat.example",
        seed: include_str!("../demo/conrat.txt"),
        people: &[
            Person {
                email: "dpo@conrat.example",
                name: "Katrin Vogel",
                role: Role::Admin,
            },
            Person {
                email: "it@conrat.example",
                name: "Jonas Becker",
                role: Role::Owner,
            },
            Person {
                email: "mitarbeiter@conrat.example",
                name: "Mia Schulz",
                role: Role::Staff,
            },
            Person {
                email: "pruefer@audit.example",
                name: "Dr. Paul Richter",
                role: Role::Auditor,
            },
            Person {
                email: "kunde@kanzlei-hoffmann.example",
                name: "Lena Hoffmann",
                role: Role::Customer,
            },
        ],
        owned: &[
            "verschluesselung",
            "zugangskontrolle",
            "verfuegbarkeit",
            "wiederherstellung",
        ],
        data_centre: DemoSubprocessor {
            name: "DomainFactory GmbH",
            address: "Oskar-Messter-Str. 33\n85737 Ismaning",
            service: "Rechenzentrumsbetrieb und Hosting",
            locations: "Rechenzentren in Deutschland",
            safeguard: Safeguard::Eu,
            attestation: (
                AttestationKind::Other,
                "DomainFactory GmbH",
                "Technische und organisatorische Maßnahmen des Rechenzentrumsbetreibers (Anlage zum AV-Vertrag)",
                None,
            ),
        },
        customer: ("Kanzlei Hoffmann & Partner", "AVV-2024-013"),
        particulars: [
            "Betrieb und Hosting der Kanzlei-Website und des Mandantenportals von Kanzlei Hoffmann & Partner, für die Laufzeit des Hosting- und Wartungsvertrags vom 01.03.2025.",
            "Hosting, Betrieb, Datensicherung, Wartung und Weiterentwicklung der Web-Anwendungen; Hilfe bei Störungen.",
            "Kontaktdaten (Name, E-Mail-Adresse, Telefon), Inhalte von Kontaktformularen und Terminanfragen, Zugangsdaten zum Mandantenportal, dort hochgeladene Dokumente, Protokolldaten (IP-Adressen, Zeitpunkte).",
            "Mandantinnen und Mandanten, Interessenten, Besucherinnen und Besucher der Website, Beschäftigte der Kanzlei.",
            "Hosting-Paket „Kanzlei Pro“; Wartungsvertrag für Website und Mandantenportal.",
            "Dr. Jana Hoffmann, Partnerin, hoffmann@kanzlei-hoffmann.example; Büroleitung, buero@kanzlei-hoffmann.example",
            "RA Thomas Berg, Datenschutzbeauftragter der Kanzlei, datenschutz@kanzlei-hoffmann.example",
            "unverzüglich, spätestens 24 Stunden nach Bekanntwerden",
        ],
    },
    DemoOrg {
        short: "clickbits",
        legal: "clickbits GmbH",
        display_short: "clickbits",
        address: "Beispielweg 7\n54321 Beispielstadt",
        dpo: "Sven Krüger, datenschutz@clickbits.example",
        seed: include_str!("../demo/clickbits.md"),
        people: &[
            Person {
                email: "dpo@clickbits.example",
                name: "Sven Krüger",
                role: Role::Admin,
            },
            Person {
                email: "it@clickbits.example",
                name: "Aylin Demir",
                role: Role::Owner,
            },
            Person {
                email: "mitarbeiter@clickbits.example",
                name: "Tim Wagner",
                role: Role::Staff,
            },
            Person {
                email: "pruefer@audit.example",
                name: "Dr. Paul Richter",
                role: Role::Auditor,
            },
            Person {
                email: "kunde@praxis-weber.example",
                name: "Max Weber",
                role: Role::Customer,
            },
        ],
        owned: &[
            "zutrittskontrolle",
            "zugangskontrolle",
            "trennungskontrolle",
            "belastbarkeit",
        ],
        data_centre: DemoSubprocessor {
            name: "Microsoft Ireland Operations Limited (Microsoft Azure)",
            address: "One Microsoft Place, South County Business Park\nLeopardstown, Dublin 18, Irland",
            service: "Cloud-Rechenzentren (Microsoft Azure)",
            locations: "Azure-Rechenzentren in der EU",
            safeguard: Safeguard::Scc,
            // Demo figure: close to expiry, so the dashboard and digest have something to show.
            attestation: (
                AttestationKind::Iso27001,
                "",
                "Microsoft Azure, Rechenzentren und Betrieb",
                Some(20),
            ),
        },
        customer: ("Praxis Dr. Weber", "AVV-2025-007"),
        particulars: [
            "Bereitstellung der Cloud-Software „clickbits Praxisplaner“ (Terminverwaltung und Online-Terminbuchung) für die Praxis Dr. Weber, für die Laufzeit des Nutzungsvertrags.",
            "Speicherung und Verwaltung von Terminen, Versand von Terminerinnerungen, Datensicherung, Support.",
            "Name, Kontaktdaten, Geburtsdatum, Termine und Terminanlass (kann Gesundheitsdaten nach Art. 9 DSGVO enthalten), Nachrichten zwischen Praxis und Patienten.",
            "Patientinnen und Patienten, Beschäftigte der Praxis.",
            "clickbits Praxisplaner (Cloud-Abonnement) mit Erinnerungen per E-Mail und SMS.",
            "Dr. Anna Weber, Praxisinhaberin, praxis@praxis-weber.example",
            "Maria Schulz, externe Datenschutzbeauftragte, dsb@praxis-weber.example",
            "unverzüglich, spätestens 24 Stunden nach Bekanntwerden",
        ],
    },
];

/// Loads the demo organisations unless they exist. Returns the logins.
pub async fn load(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> AppResult<Vec<(String, String, String, Role)>> {
    let actor = AuditActor::system("nachweis demo");
    let mut logins = Vec::new();
    for o in ORGS {
        for p in o.people {
            logins.push((
                o.short.to_owned(),
                p.email.to_owned(),
                p.name.to_owned(),
                p.role,
            ));
        }
        let exists = organisations::Entity::find()
            .filter(organisations::Column::ShortName.eq(o.short))
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let txn = db.begin_write().await?;
        let short = ShortName::parse(o.short)?;
        let org = app::orgs::service::create_org(&txn, now, &actor, &short, o.legal).await?;
        let parsed = parse_annex(o.seed);
        let mut am: organisations::ActiveModel = org.clone().into();
        am.display_short = Set(o.display_short.to_owned());
        am.address = Set(o.address.to_owned());
        am.dpo_contact = Set(o.dpo.to_owned());
        am.intro_text = Set(parsed.intro.join("\n\n"));
        am.update(&txn).await?;

        let mut user_ids = Vec::new();
        for p in o.people {
            let email = EmailAddress::parse(p.email)?;
            let existing = app::entities::users::Entity::find()
                .filter(app::entities::users::Column::Email.eq(email.as_str()))
                .one(&txn)
                .await?;
            let user = match existing {
                Some(u) => u,
                None => {
                    app::auth::service::create_user(
                        &txn,
                        now,
                        &actor,
                        &email,
                        p.name,
                        Some(DEMO_PASSWORD),
                    )
                    .await?
                }
            };
            app::orgs::service::add_membership(&txn, now, &actor, org.id, user.id, p.role).await?;
            if p.role == Role::Customer {
                add_customer(&txn, now, org.id, (o.customer, &o.particulars), p, user.id).await?;
            }
            user_ids.push((p.role, user.id));
        }
        let owner = user_ids
            .iter()
            .find(|(r, _)| *r == Role::Owner)
            .map(|(_, id)| *id);
        let cats = categories::Entity::find()
            .filter(categories::Column::OrgId.eq(org.id))
            .all(&txn)
            .await?;
        let mut relying = Vec::new();
        for (kind, text) in parsed.sections {
            let Some(cat) = cats.iter().find(|c| c.kind == kind) else {
                continue;
            };
            let owners: Vec<app::ids::UserId> = match owner {
                Some(id) if o.owned.contains(&kind) => vec![id],
                _ => Vec::new(),
            };
            let input = MeasureInput {
                category_id: cat.id,
                title: String::new(),
                body: app::domain::MeasureText::parse(&text)?,
                status: MeasureStatus::Implemented,
            };
            let m = insert_measure(&txn, now, &actor, org.id, input, &owners).await?;
            // The seeds name the data-centre operator where they rely on it.
            if text.contains("Rechenzentrumsbetreiber") {
                relying.push(m);
            }
        }
        add_data_centre(&txn, now, org.id, &o.data_centre, &relying).await?;
        txn.commit().await?;
        app::training::service::save_course(
            db,
            now,
            org.id,
            None,
            &actor,
            None,
            app::training::BASE_COURSE_TITLE,
            app::training::BASE_COURSE,
            app::training::DEFAULT_PASS_PERCENT,
        )
        .await?;
        // The default pledge text; clickbits' customers include medical
        // practices, so its text carries the § 203 StGB clause.
        app::pledges::service::publish_as(
            db,
            now,
            org.id,
            None,
            &actor,
            app::pledges::service::DEFAULT_TITLE,
            &app::pledges::service::default_body(o.legal),
            if o.short == "clickbits" {
                &["stgb203"]
            } else {
                &[]
            },
        )
        .await?;
    }
    Ok(logins)
}

/// The demo customer with its AVV, the customer person as its contact, and
/// that person's membership tied to it (so they can object to notices).
async fn add_customer<C: sea_orm::ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org_id: OrgId,
    ((name, avv_reference), particulars): ((&str, &str), &[&str; 8]),
    person: &Person,
    user_id: UserId,
) -> AppResult<()> {
    use app::entities::{customer_contacts, customers, memberships};
    let text = |i: usize| Set(particulars[i].to_owned());
    let customer = customers::ActiveModel {
        org_id: Set(org_id),
        name: Set(name.to_owned()),
        avv_reference: Set(avv_reference.to_owned()),
        avv_date: Set(chrono::NaiveDate::from_ymd_opt(2025, 3, 1)),
        created_at: Set(now),
        subject: text(0),
        purpose: text(1),
        data_types: text(2),
        data_subjects: text(3),
        services: text(4),
        instructors: text(5),
        controller_dpo: text(6),
        breach_deadline: text(7),
        // The data centre (added later) is chosen for it there.
        particulars_at: Set(Some(now)),
        ..Default::default()
    }
    .insert(db)
    .await?;
    customer_contacts::ActiveModel {
        org_id: Set(org_id),
        customer_id: Set(customer.id),
        name: Set(person.name.to_owned()),
        email: Set(person.email.to_owned()),
        locale: Set("de".to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    memberships::Entity::update_many()
        .col_expr(
            memberships::Column::CustomerId,
            sea_orm::sea_query::Expr::value(customer.id),
        )
        .filter(memberships::Column::OrgId.eq(org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

async fn add_data_centre<C: sea_orm::ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    org_id: OrgId,
    d: &DemoSubprocessor,
    measures: &[app::ids::MeasureId],
) -> AppResult<()> {
    use app::entities::{attestations, measure_subprocessors, subprocessors};
    let sub = subprocessors::ActiveModel {
        org_id: Set(org_id),
        name: Set(d.name.to_owned()),
        address: Set(d.address.to_owned()),
        service: Set(d.service.to_owned()),
        locations: Set(d.locations.to_owned()),
        safeguard: Set(d.safeguard),
        contact: Set(String::new()),
        status: Set(SubStatus::Active),
        since: Set(None),
        until: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let (kind, issuer, scope, days) = d.attestation;
    attestations::ActiveModel {
        org_id: Set(org_id),
        subprocessor_id: Set(sub.id),
        kind: Set(kind),
        issuer: Set(issuer.to_owned()),
        scope: Set(scope.to_owned()),
        valid_until: Set(days.map(|n| app::format::german_day(now) + chrono::Duration::days(n))),
        evidence_id: Set(None),
        created_at: Set(now),
        deleted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    for m in measures {
        measure_subprocessors::ActiveModel {
            measure_id: Set(*m),
            subprocessor_id: Set(sub.id),
            org_id: Set(org_id),
        }
        .insert(db)
        .await?;
    }
    // Every demo customer's services run in this data centre (Anlage 2).
    use app::entities::{customer_subprocessors, customers};
    for c in customers::Entity::find()
        .filter(customers::Column::OrgId.eq(org_id))
        .all(db)
        .await?
    {
        customer_subprocessors::ActiveModel {
            org_id: Set(org_id),
            customer_id: Set(c.id),
            subprocessor_id: Set(sub.id),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conrat_seed_maps_every_paragraph() {
        let p = parse_annex(include_str!("../demo/conrat.txt"));
        assert_eq!(p.intro.len(), 3, "{:?}", p.intro);
        assert!(p.intro[0].contains("nachfolgend ConRat"));
        let kinds: Vec<_> = p.sections.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            kinds,
            [
                "pseudonymisierung",
                "verschluesselung",
                "zutrittskontrolle",
                "zugangskontrolle",
                "zugriffskontrolle",
                "trennungskontrolle",
                "weitergabekontrolle",
                "eingabekontrolle",
                "verfuegbarkeit",
                "verfuegbarkeit",
                "verfuegbarkeit",
                "belastbarkeit",
                "wiederherstellung",
                "evaluierung",
                "evaluierung",
            ]
        );
        assert!(p.sections[2].1.contains("DomainFactory GmbH"));
        assert!(!p.sections.iter().any(|(_, t)| t.contains("Cookie")));
    }

    #[test]
    fn clickbits_seed_maps_every_paragraph() {
        let p = parse_annex(include_str!("../demo/clickbits.md"));
        assert_eq!(p.intro.len(), 1);
        assert!(p.intro[0].starts_with("Die clickbits GmbH"));
        assert_eq!(p.sections.len(), 24, "{:#?}", p.sections);
        assert_eq!(p.sections[0].0, "pseudonymisierung");
        assert_eq!(p.sections.last().map(|s| s.0), Some("evaluierung"));
        assert!(
            p.sections
                .iter()
                .filter(|(k, _)| *k == "zutrittskontrolle")
                .any(|(_, t)| t.contains("Microsoft"))
        );
    }
}
