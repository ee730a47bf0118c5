//! Liveness and readiness: `/healthz` never touches the database,
//! `/readyz` answers 200 only while the database answers and its schema is
//! current.

use app::domain::Role;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database};

use crate::both;
use crate::helpers::*;

async fn ready_when_the_database_is_current(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let c = app.client();
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    let r = c.get("/readyz").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // A schema one migration behind the binary is not ready.
    app.db
        .execute_unprepared("DELETE FROM seaql_migrations WHERE version = 'm0020_keyed_audit'")
        .await
        .unwrap();
    let r = c.get("/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("1 migration(s) pending"), "{}", r.body);
    assert_eq!(c.get("/healthz").await.status, StatusCode::OK);
    app.stop().await;
}
both!(ready_when_the_database_is_current);

/// The database goes away (PostgreSQL refuses connections) and comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    if !pg_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let app = spawn_app(&db).await;
    let c = app.client();
    assert_eq!(c.get("/readyz").await.status, StatusCode::OK);
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let admin = Database::connect(
        std::env::var("NACHWEIS_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
    )
    .await
    .unwrap();
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
        ))
        .await
        .unwrap();
    let down = c.get("/readyz").await;
    assert_eq!(
        down.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        down.body
    );
    assert_eq!(
        c.get("/healthz").await.status,
        StatusCode::OK,
        "liveness needs no database"
    );
    admin
        .execute_unprepared(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    let mut back = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..50 {
        back = c.get("/readyz").await.status;
        if back == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(back, StatusCode::OK);
    let _ = app::entities::close(admin).await;
    app.stop().await;
}

/// `/metrics`: absent without a configured token, 401 without the right
/// one, and with it the Prometheus text: requests per route template (never
/// a concrete path with an id or token, never an address), the outbox and
/// the evidence stored.
async fn metrics_need_the_token_and_name_no_one(backend: Backend) {
    use app::domain::Role;
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let c = app.client();
    assert_eq!(c.get("/metrics").await.status, StatusCode::NOT_FOUND);
    app.stop().await;

    let token = "metrics-token-0123456789abcdef";
    let mut config = config_for(&db);
    config.metrics_token = Some(secrecy::SecretString::from(token.to_owned()));
    let app = spawn_with(config, TestClock::starting_now()).await;
    let org = app.org("acme").await;
    let c = app.client();
    c.login_ok(&org.email(Role::Admin)).await;
    // A page with an id in its path, and a login link with a token in it.
    let _ = c.get("/massnahmen/4242424").await;
    let _ = c.get("/anmeldelink/geheimes-token-im-pfad").await;
    let scrape = |auth: Option<String>| {
        let http = reqwest::Client::new();
        let url = format!("{}/metrics", app.address);
        async move {
            let mut req = http.get(url);
            if let Some(a) = auth {
                req = req.header("Authorization", a);
            }
            let res = req.send().await.unwrap();
            (
                res.status(),
                res.headers().get("www-authenticate").is_some(),
                res.text().await.unwrap(),
            )
        }
    };
    let (status, challenge, _) = scrape(None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge);
    assert_eq!(
        scrape(Some("Bearer wrong-token-0123456789abcdef".into()))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (status, _, text) = scrape(Some(format!("Bearer {token}"))).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    for expected in [
        "nachweis_http_requests_total{method=\"GET\",route=\"/massnahmen/{id}\",status=\"",
        "nachweis_http_request_duration_seconds_bucket{",
        "nachweis_outbox_queued ",
        "nachweis_outbox_failed ",
        "nachweis_evidence_stored_bytes ",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }
    for leak in [
        "4242424",
        "geheimes-token",
        "acme.example",
        "127.0.0.1",
        "@",
    ] {
        assert!(!text.contains(leak), "{leak} in the metrics:\n{text}");
    }
    app.stop().await;
}
both!(metrics_need_the_token_and_name_no_one);

/// Writers at once, beside readers: on SQLite the pool holds several
/// connections and each write transaction takes the write lock when it
/// begins, so every writer waits its turn instead of failing with
/// SQLITE_BUSY when it upgrades from reading to writing (adding a customer
/// reads, then writes the row and appends to the audit chain). Every call
/// succeeds, every row is there, and the chain they all appended to holds.
async fn concurrent_writers_take_turns_and_lose_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let names: Vec<String> = (0..24).map(|i| format!("Kunde {i:02}")).collect();
    let writes = futures::future::join_all(names.iter().map(|n| {
        let (admin, n) = (admin.clone(), n.clone());
        async move { admin.call("customers/add", &[("name", n.as_str())]).await }
    }));
    let reads = futures::future::join_all((0..24).map(|_| {
        let c = app.client();
        async move {
            c.http
                .get(format!("{}/healthz", c.base))
                .send()
                .await
                .unwrap()
                .status()
        }
    }));
    let (writes, reads) = tokio::join!(writes, reads);
    for (n, a) in names.iter().zip(&writes) {
        assert_eq!(a.status, StatusCode::OK, "{n}: {}", a.body);
    }
    assert!(reads.iter().all(|s| *s == StatusCode::OK), "{reads:?}");
    let listed: Vec<app::customers::CustomerView> =
        serde_json::from_str(&admin.call("customers/list", &[]).await.body).unwrap();
    let mut listed: Vec<String> = listed.into_iter().map(|c| c.name).collect();
    listed.sort();
    assert_eq!(listed, names);
    match app::audit::service::verify(&app.db).await.unwrap() {
        app::audit::service::Verification::Intact { .. } => {}
        broken => panic!("audit chain: {broken:?}"),
    }
    app.stop().await;
}
both!(concurrent_writers_take_turns_and_lose_nothing);

/// Transactions that read before they write, side by side: each measure
/// update reads the measure and its version, then writes. On SQLite a
/// transaction that began deferred fails with SQLITE_BUSY when it upgrades
/// while another connection writes (the busy timeout does not help there);
/// every writer here takes the write lock at its start and waits its turn.
async fn concurrent_read_then_write_transactions_all_succeed(backend: Backend) {
    use crate::catalogue::{catalogue, category_id, create, measure};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let category = category_id(&catalogue(&admin).await, "3.1");
    let mut ids = Vec::new();
    for i in 0..24 {
        ids.push(create(&admin, category, &format!("Maßnahme {i}.")).await);
    }
    let updates = futures::future::join_all(ids.iter().map(|id| {
        let admin = admin.clone();
        let id = *id;
        async move {
            let m = measure(&admin, id).await;
            admin
                .call(
                    "toms/measure/update",
                    &[
                        ("id", &id.to_string()),
                        ("version", &m.version.to_string()),
                        ("category_id", &category.to_string()),
                        ("title", ""),
                        ("body", &format!("Maßnahme {id}, überarbeitet.")),
                        ("status", "implemented"),
                    ],
                )
                .await
        }
    }))
    .await;
    for (id, a) in ids.iter().zip(&updates) {
        assert_eq!(a.status, StatusCode::OK, "measure {id}: {}", a.body);
    }
    for id in &ids {
        let m = measure(&admin, *id).await;
        assert_eq!(m.body, format!("Maßnahme {id}, überarbeitet."));
        assert_eq!(m.version, 2);
    }
    match app::audit::service::verify(&app.db).await.unwrap() {
        app::audit::service::Verification::Intact { .. } => {}
        broken => panic!("audit chain: {broken:?}"),
    }
    app.stop().await;
}
both!(concurrent_read_then_write_transactions_all_succeed);

/// A page reads in one read transaction and sees one state of the data: a
/// write committed between two of its statements is not in the second.
/// On PostgreSQL the default isolation (READ COMMITTED) gave every
/// statement a snapshot of its own, so a page could count a customer its
/// list, read a moment before, did not have.
async fn a_read_transaction_sees_one_state_of_the_data(backend: Backend) {
    use app::entities::{BeginRead, customers};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    async fn count<C: ConnectionTrait>(c: &C, org: app::ids::OrgId) -> u64 {
        customers::Entity::find()
            .filter(customers::Column::OrgId.eq(org))
            .count(c)
            .await
            .unwrap()
    }
    let read = app.db.begin_read().await.unwrap();
    let before = count(&read, org.id).await;
    let added = admin.call("customers/add", &[("name", "Neu GmbH")]).await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(
        count(&read, org.id).await,
        before,
        "the read transaction saw a write committed after its first statement"
    );
    read.commit().await.unwrap();
    assert_eq!(count(&app.db, org.id).await, before + 1);
    app.stop().await;
}
both!(a_read_transaction_sees_one_state_of_the_data);

/// The connections to PostgreSQL send each message at once (`TCP_NODELAY`).
/// Without it the kernel holds a short write back until the server
/// acknowledges the one before, which PostgreSQL delays by up to 40 ms:
/// with sqlx 0.9.0, which had dropped the option, a 304 under load had a
/// p99 of 80 ms on PostgreSQL against 4 ms over its Unix socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_send_at_once() {
    if !pg_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let app = spawn_app(&db).await;
    let port = url::Url::parse(&db.url)
        .ok()
        .and_then(|u| u.port())
        .expect("the PostgreSQL URL names a TCP port");
    // Every statement below runs on a connection of the application's pool.
    let txn = {
        use app::entities::BeginRead;
        app.db.begin_read().await.unwrap()
    };
    txn.commit().await.unwrap();
    // Other tests of this process open connections too; one caught between
    // its connect and the option being set is looked at again.
    let (checked, lacking) = postgres_sockets(port);
    assert!(checked > 0, "no connection to PostgreSQL found");
    if !lacking.is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let (_, still) = postgres_sockets(port);
        let lacking: Vec<_> = lacking.iter().filter(|fd| still.contains(fd)).collect();
        assert!(
            lacking.is_empty(),
            "connections to PostgreSQL that wait to send (no TCP_NODELAY): fds {lacking:?}"
        );
    }
    app.stop().await;
}

/// This process's TCP connections to `port`: how many, and the descriptors
/// of those without `TCP_NODELAY`.
fn postgres_sockets(port: u16) -> (usize, Vec<i32>) {
    let (mut checked, mut lacking) = (0, Vec::new());
    for entry in std::fs::read_dir("/proc/self/fd").unwrap() {
        let Ok(fd) = entry.unwrap().file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        // SAFETY: borrowed for two queries only; a descriptor closed
        // meanwhile makes them fail, which skips it.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&borrowed);
        let to_postgres = socket
            .peer_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .is_some_and(|a| a.port() == port);
        if let (true, Ok(nodelay)) = (to_postgres, socket.tcp_nodelay()) {
            checked += 1;
            if !nodelay {
                lacking.push(fd);
            }
        }
    }
    (checked, lacking)
}

/// Reorders side by side in one category. Each move reads the category's
/// order, then renumbers it and records a revision of every measure whose
/// position changed. Read unlocked on PostgreSQL, two moves renumbered from
/// the same reading: the second recorded revision versions the first had
/// taken (500, unique violation) or the two deadlocked (500). Every move
/// succeeds, positions stay dense, each measure's revisions are numbered
/// without gaps, and the same holds for categories.
async fn concurrent_reorders_take_turns(backend: Backend) {
    use crate::catalogue::{catalogue, category_id, create, measure, measure_ids};
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let category = category_id(&catalogue(&admin).await, "3.1");
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(create(&admin, category, &format!("Maßnahme {i}.")).await);
    }
    for a in &moves_at_once(&admin, "toms/measure/move", &ids, 36).await {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let cat = catalogue(&admin).await;
    let mut listed = measure_ids(&cat, category);
    listed.sort();
    assert_eq!(listed, ids, "every measure is listed once");
    for id in &ids {
        let m = measure(&admin, *id).await;
        let mut versions: Vec<i32> = m.revisions.iter().map(|r| r.version).collect();
        versions.sort();
        assert_eq!(
            versions,
            (1..=m.version).collect::<Vec<_>>(),
            "measure {id}: revisions"
        );
    }
    // Positions are dense: 1..=n in the category, in the listed order.
    use sea_orm::EntityTrait;
    let positions: Vec<i32> = app::entities::measures::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.category_id.0 == category)
        .map(|m| m.position)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(positions, (1..=ids.len() as i32).collect::<Vec<_>>());

    // Categories: the top-level ones, up and down at once.
    let tops: Vec<i32> = cat
        .categories
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| c.id.0)
        .collect();
    for a in &moves_at_once(&admin, "toms/category/move", &tops, 24).await {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let mut after: Vec<i32> = catalogue(&admin)
        .await
        .categories
        .iter()
        .filter(|c| c.parent_id.is_none())
        .map(|c| c.id.0)
        .collect();
    after.sort();
    let mut before = tops.clone();
    before.sort();
    assert_eq!(after, before, "every category is listed once");
    match app::audit::service::verify(&app.db).await.unwrap() {
        app::audit::service::Verification::Intact { .. } => {}
        broken => panic!("audit chain: {broken:?}"),
    }
    app.stop().await;
}
both!(concurrent_reorders_take_turns);

/// `n` moves at once, up and down in turn, round the `ids`.
async fn moves_at_once(admin: &Client, endpoint: &str, ids: &[i32], n: usize) -> Vec<Answer> {
    futures::future::join_all((0..n).map(|i| {
        let admin = admin.clone();
        let id = ids[i % ids.len()].to_string();
        let direction = if i % 2 == 0 { "up" } else { "down" };
        async move {
            admin
                .call(endpoint, &[("id", &id), ("direction", direction)])
                .await
        }
    }))
    .await
}
