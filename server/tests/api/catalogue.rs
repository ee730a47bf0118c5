//! Catalogue: create, edit, reorder, retire, owners, with history.

use app::domain::Role;
use app::toms::{CatalogueView, MeasureDetail};
use reqwest::StatusCode;

use crate::both;
use crate::helpers::*;

pub async fn catalogue(c: &Client) -> CatalogueView {
    let a = c.call("toms/catalogue", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

pub async fn measure(c: &Client, id: i32) -> MeasureDetail {
    let a = c.call("toms/measure", &[("id", &id.to_string())]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    serde_json::from_str(&a.body).unwrap()
}

/// The measures of a category, in the catalogue's order.
pub fn measure_ids(cat: &CatalogueView, category: i32) -> Vec<i32> {
    cat.categories
        .iter()
        .find(|c| c.id.0 == category)
        .expect("category")
        .measures
        .iter()
        .map(|m| m.id.0)
        .collect()
}

pub fn category_id(cat: &CatalogueView, number: &str) -> i32 {
    cat.categories
        .iter()
        .find(|c| c.number == number)
        .map(|c| c.id.0)
        .expect("category")
}

pub async fn create(c: &Client, category: i32, body: &str) -> i32 {
    let a = c
        .call(
            "toms/measure/create",
            &[
                ("category_id", &category.to_string()),
                ("title", ""),
                ("body", body),
                ("status", "implemented"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body.parse().unwrap()
}

async fn default_catalogue_follows_art_32(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let outline: Vec<String> = cat
        .categories
        .iter()
        .map(|c| format!("{} {}", c.number, c.title))
        .collect();
    assert_eq!(outline[0], "1 Pseudonymisierung");
    assert_eq!(outline[1], "2 Verschlüsselung");
    assert_eq!(outline[2], "3 Gewährleistung der Vertraulichkeit");
    assert_eq!(outline[3], "3.1 Zutrittskontrolle");
    assert_eq!(outline[6], "3.4 Trennungskontrolle");
    assert_eq!(outline[8], "4.1 Weitergabekontrolle");
    assert_eq!(outline[9], "4.2 Eingabekontrolle");
    assert!(outline[13].starts_with("8 Verfahren regelmäßiger Überprüfung"));
    assert_eq!(outline.len(), 14);
    app.stop().await;
}
both!(default_catalogue_follows_art_32);

async fn create_edit_reorder_retire_with_history(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let zutritt = category_id(&cat, "3.1");
    let first = create(&c, zutritt, "Besucher werden am Empfang registriert.").await;
    let second = create(&c, zutritt, "Serverräume sind mit Chipkarten gesichert.").await;

    // Edit the first: text and status.
    let m = measure(&c, first).await;
    assert_eq!(m.version, 1);
    let a = c
        .call(
            "toms/measure/update",
            &[
                ("id", &first.to_string()),
                ("version", "1"),
                ("category_id", &zutritt.to_string()),
                ("title", "Besucherregelung"),
                (
                    "body",
                    "Besucher werden am Empfang registriert und begleitet.",
                ),
                ("status", "planned"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // A second edit from the stale form is refused, not silently applied.
    let stale = c
        .call(
            "toms/measure/update",
            &[
                ("id", &first.to_string()),
                ("version", "1"),
                ("category_id", &zutritt.to_string()),
                ("title", ""),
                ("body", "überschrieben"),
                ("status", "planned"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);

    // Reorder: the second moves up.
    let a = c
        .call(
            "toms/measure/move",
            &[("id", &second.to_string()), ("direction", "up")],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let ids = measure_ids(&catalogue(&c).await, zutritt);
    assert_eq!(ids, vec![second, first]);

    // Owners.
    let owner = org.user_id(Role::Owner);
    let a = c
        .call(
            "toms/measure/owner/add",
            &[
                ("measure_id", &first.to_string()),
                ("user_id", &owner.to_string()),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    // A customer cannot be made responsible for a measure.
    let cust = org.user_id(Role::Customer);
    let a = c
        .call(
            "toms/measure/owner/add",
            &[
                ("measure_id", &first.to_string()),
                ("user_id", &cust.to_string()),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    // Nor can the auditor (who must stay independent) or staff; the form
    // offers only those who may own measures.
    for role in [Role::Auditor, Role::Staff] {
        let a = c
            .call(
                "toms/measure/owner/add",
                &[
                    ("measure_id", &first.to_string()),
                    ("user_id", &org.user_id(role).to_string()),
                ],
            )
            .await;
        assert_eq!(
            a.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{role:?}: {}",
            a.body
        );
        assert!(
            a.body.contains("Verantwortlich für Maßnahmen können nur"),
            "{}",
            a.body
        );
    }
    let offered: Vec<_> = measure(&c, first)
        .await
        .members
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    assert!(offered.contains(&org.user_id(Role::Admin)) && offered.contains(&owner));
    assert!(!offered.contains(&org.user_id(Role::Auditor)));
    assert!(!offered.contains(&org.user_id(Role::Staff)));

    // Retire.
    let a = c
        .call("toms/measure/retire", &[("id", &first.to_string())])
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let again = c
        .call("toms/measure/retire", &[("id", &first.to_string())])
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);

    let m = measure(&c, first).await;
    assert_eq!(m.status, app::domain::MeasureStatus::Retired);
    assert_eq!(m.title, "Besucherregelung");
    let changes: Vec<&str> = m.revisions.iter().map(|r| r.change.as_str()).collect();
    assert_eq!(
        changes,
        [
            "außer Kraft gesetzt",
            "Verantwortliche/r hinzugefügt",
            "Reihenfolge geändert",
            "bearbeitet",
            "angelegt"
        ]
    );
    let edit = m
        .revisions
        .iter()
        .find(|r| r.change == "bearbeitet")
        .unwrap();
    assert!(
        edit.changes
            .iter()
            .any(|c| c == "Status: umgesetzt → geplant"),
        "{:?}",
        edit.changes
    );
    assert_eq!(
        edit.previous_body.as_deref(),
        Some("Besucher werden am Empfang registriert.")
    );
    assert_eq!(m.owners.len(), 1);

    // The owner sees it on the start page list.
    let oc = app.client();
    oc.login_ok(&org.email(Role::Owner)).await;
    let mine = oc.call("toms/my-measures", &[]).await;
    assert!(
        mine.body
            .contains("Besucher werden am Empfang registriert und begleitet."),
        "{}",
        mine.body
    );
    app.stop().await;
}
both!(create_edit_reorder_retire_with_history);

async fn owners_edit_only_their_own_measures(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&admin).await;
    let k = category_id(&cat, "2");
    let mine = create(&admin, k, "Festplatten sind verschlüsselt.").await;
    let other = create(&admin, k, "TLS 1.2 oder höher.").await;
    admin
        .call(
            "toms/measure/owner/add",
            &[
                ("measure_id", &mine.to_string()),
                ("user_id", &org.user_id(Role::Owner).to_string()),
            ],
        )
        .await;
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    let m = measure(&owner, mine).await;
    let edit = |id: i32, version: i32| {
        let owner = owner.clone();
        async move {
            owner
                .call(
                    "toms/measure/update",
                    &[
                        ("id", &id.to_string()),
                        ("version", &version.to_string()),
                        ("category_id", &k.to_string()),
                        ("title", ""),
                        ("body", "Geändert vom Owner."),
                        ("status", "implemented"),
                    ],
                )
                .await
        }
    };
    assert_eq!(edit(mine, m.version).await.status, StatusCode::OK);
    assert_eq!(edit(other, 1).await.status, StatusCode::FORBIDDEN);
    app.stop().await;
}
both!(owners_edit_only_their_own_measures);

async fn categories_can_be_renamed_reordered_and_extended(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    let cat = catalogue(&c).await;
    let pseudo = category_id(&cat, "1");
    let vertr = category_id(&cat, "3");
    assert_eq!(
        c.call(
            "toms/category/rename",
            &[
                ("id", &pseudo.to_string()),
                ("title", "Pseudonymisierung und Anonymisierung")
            ]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        c.call(
            "toms/category/move",
            &[("id", &pseudo.to_string()), ("direction", "down")]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        c.call(
            "toms/category/add",
            &[
                ("parent_id", &vertr.to_string()),
                ("title", "Auftragskontrolle")
            ]
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        c.call(
            "toms/category/add",
            &[("title", "Organisatorische Maßnahmen")]
        )
        .await
        .status,
        StatusCode::OK
    );
    let cat = catalogue(&c).await;
    let outline: Vec<String> = cat
        .categories
        .iter()
        .map(|c| format!("{} {}", c.number, c.title))
        .collect();
    assert_eq!(outline[0], "1 Verschlüsselung");
    assert_eq!(outline[1], "2 Pseudonymisierung und Anonymisierung");
    assert_eq!(outline[7], "3.5 Auftragskontrolle");
    assert_eq!(outline.last().unwrap(), "9 Organisatorische Maßnahmen");
    app.stop().await;
}
both!(categories_can_be_renamed_reordered_and_extended);
