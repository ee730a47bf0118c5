//! Evidence: streaming upload, sniffed types, content-addressed storage
//! (local directory and a real S3 server), downloads that never render,
//! and who may see what.

use app::blobs::BlobStore;
use app::domain::Role;
use app::evidence::{MeasureEvidence, UploadResult};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};

use crate::catalogue::{catalogue, category_id, create};
use crate::helpers::*;
use crate::peers::S3Server;

pub const PDF: &[u8] =
    b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

pub fn form(measure_id: i32, title: &str, valid_until: &str, name: &str, bytes: Vec<u8>) -> Form {
    Form::new()
        .text("measure_id", measure_id.to_string())
        .text("title", title.to_owned())
        .text("valid_until", valid_until.to_owned())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

pub async fn upload(c: &Client, form: Form) -> Answer {
    let res = c
        .http
        .post(format!("{}/nachweise/hochladen", c.base))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await
        .expect("upload");
    Answer {
        status: res.status(),
        headers: res.headers().clone(),
        body: res.text().await.expect("body"),
    }
}

pub async fn download(
    c: &Client,
    version_id: app::ids::EvidenceVersionId,
) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let res = c
        .http
        .get(format!("{}/nachweise/datei/{version_id}", c.base))
        .send()
        .await
        .expect("download");
    let status = res.status();
    let headers = res.headers().clone();
    (status, headers, res.bytes().await.expect("bytes").to_vec())
}

/// Files on disk under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Storage {
    Local,
    S3,
}

async fn round_trip(backend: Backend, storage: Storage) {
    let db = TestDb::new(backend).await;
    let mut config = config_for(&db);
    let s3 = match storage {
        Storage::S3 => Some(S3Server::start().await),
        Storage::Local => None,
    };
    if let Some(s3) = &s3 {
        config.storage = server::config::StorageConfig::S3(s3.config());
    }
    let app = spawn_with(config, std::sync::Arc::new(clock_now())).await;
    let org = app.org("acme").await;
    let other = app.org("other").await;
    let owner = app.client();
    owner.login_ok(&org.email(Role::Owner)).await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let measure = create(
        &admin,
        category_id(&catalogue(&admin).await, "7"),
        "Rücksicherungen werden monatlich getestet.",
    )
    .await;

    let a = upload(
        &owner,
        form(
            measure,
            "Rücksicherungstest März",
            "2027-03-31",
            "Prüfbericht März.pdf",
            PDF.to_vec(),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let first: UploadResult = serde_json::from_str(&a.body).unwrap();
    assert_eq!(first.sha256, hex::encode(Sha256::digest(PDF)));
    assert_eq!(first.content_type, "application/pdf");
    assert_eq!(first.file_name, "Prüfbericht März.pdf");

    // A new version supersedes the old one; the old one stays.
    let v2 = PDF.iter().chain(b"% v2\n").copied().collect::<Vec<u8>>();
    let a = upload(
        &owner,
        Form::new()
            .text("evidence_id", first.evidence_id.to_string())
            .part(
                "file",
                Part::bytes(v2.clone()).file_name("Prüfbericht April.pdf"),
            ),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let second: UploadResult = serde_json::from_str(&a.body).unwrap();
    assert_eq!((second.evidence_id, second.version), (first.evidence_id, 2));

    let list = admin
        .call("evidence/list", &[("measure_id", &measure.to_string())])
        .await;
    let list: MeasureEvidence = serde_json::from_str(&list.body).expect(&list.body);
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].versions.len(), 2);
    assert_eq!(list.items[0].versions[0].version, 2);
    assert_eq!(
        list.items[0].valid_until.map(|d| d.to_string()).as_deref(),
        Some("2027-03-31")
    );

    // Downloads: attachment, stored type, nosniff, the exact bytes.
    let (status, headers, body) = download(&admin, first.version_id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, PDF);
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let cd = headers["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("attachment;")
            && cd.contains("filename*=UTF-8''Pr%C3%BCfbericht%20M%C3%A4rz.pdf"),
        "{cd}"
    );
    assert_eq!(download(&admin, second.version_id).await.2, v2);

    // Auditors read but do not change; staff and customers see nothing.
    let auditor = app.client();
    auditor.login_ok(&org.email(Role::Auditor)).await;
    assert_eq!(download(&auditor, first.version_id).await.0, StatusCode::OK);
    let a = upload(&auditor, form(measure, "x", "", "a.pdf", PDF.to_vec())).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(
        auditor
            .call("evidence/delete", &[("id", &first.evidence_id.to_string())])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    for role in [Role::Staff, Role::Customer] {
        let c = app.client();
        c.login_ok(&org.email(role)).await;
        assert_eq!(
            c.call("evidence/list", &[("measure_id", &measure.to_string())])
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        assert_eq!(
            download(&c, first.version_id).await.0,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
        assert_eq!(
            upload(&c, form(measure, "x", "", "a.pdf", PDF.to_vec()))
                .await
                .status,
            StatusCode::FORBIDDEN,
            "{role:?}"
        );
    }
    // Another organisation's admin finds nothing: not by id, not by hash, not via its measure.
    let stranger = app.client();
    stranger.login_ok(&other.email(Role::Admin)).await;
    assert_eq!(
        download(&stranger, first.version_id).await.0,
        StatusCode::NOT_FOUND
    );
    let by_hash = stranger
        .http
        .get(format!("{}/nachweise/datei/{}", app.address, first.sha256))
        .send()
        .await
        .unwrap();
    assert_eq!(by_hash.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        stranger
            .call("evidence/list", &[("measure_id", &measure.to_string())])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let a = upload(
        &stranger,
        Form::new()
            .text("evidence_id", first.evidence_id.to_string())
            .part("file", Part::bytes(PDF.to_vec()).file_name("x.pdf")),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.body);
    // Not signed in: no file.
    let anon = app.client();
    let res = anon
        .http
        .get(format!(
            "{}/nachweise/datei/{}",
            app.address, first.version_id
        ))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());

    // Deleting hides; the bytes stay until an admin purges; the audit log keeps the hash.
    let id = first.evidence_id.to_string();
    assert_eq!(
        owner.call("evidence/purge", &[("id", &id)]).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin.call("evidence/purge", &[("id", &id)]).await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        owner.call("evidence/delete", &[("id", &id)]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        download(&admin, first.version_id).await.0,
        StatusCode::NOT_FOUND
    );
    let store = server::storage::from_config(&app.config).unwrap();
    assert!(store.exists(&first.sha256).await.unwrap());
    let a = admin.call("evidence/purge", &[("id", &id)]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!store.exists(&first.sha256).await.unwrap());
    assert!(!store.exists(&second.sha256).await.unwrap());
    let log = admin
        .call(
            "audit/list",
            &[
                ("filter[entity]", "evidence"),
                ("filter[action]", "purge"),
                ("filter[actor]", ""),
            ],
        )
        .await;
    assert!(log.body.contains(&first.sha256), "{}", log.body);
    app.stop().await;
}

fn clock_now() -> TestClock {
    #[allow(clippy::disallowed_methods)]
    TestClock::at(chrono::Utc::now())
}

mod round_trip {
    use super::*;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_local() {
        round_trip(Backend::Sqlite, Storage::Local).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_local() {
        if pg_available().await {
            round_trip(Backend::Postgres, Storage::Local).await
        }
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_s3() {
        round_trip(Backend::Sqlite, Storage::S3).await
    }
}

async fn bad_uploads_are_refused_and_leave_nothing(backend: Backend) {
    let db = TestDb::new(backend).await;
    let app = spawn_app(&db).await;
    let org = app.org("acme").await;
    let admin = app.client();
    admin.login_ok(&org.email(Role::Admin)).await;
    let measure = create(
        &admin,
        category_id(&catalogue(&admin).await, "7"),
        "Backups.",
    )
    .await;
    let evidence_dir = db.dir.path().join("evidence");

    // 51 MB against the default limit of 50 MB.
    let mut big = PDF.to_vec();
    big.resize(51 * 1024 * 1024, b'0');
    let a = upload(&admin, form(measure, "Zu groß", "", "gross.pdf", big)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.body);
    let e: app::error::AppError = serde_json::from_str(&a.body).unwrap();
    assert!(e.to_string().contains("höchstens 50 MB"), "{e}");
    assert!(
        files_under(&evidence_dir).is_empty(),
        "{:?}",
        files_under(&evidence_dir)
    );

    // A Windows executable named .pdf; HTML; SVG.
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0@\0\0\0".to_vec();
    exe.extend_from_slice(&[0u8; 200]);
    exe[0x3c] = 0x80;
    for (name, bytes) in [
        ("rechnung.pdf", exe),
        (
            "seite.html",
            b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
                .to_vec(),
        ),
        (
            "bild.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
        ),
        (
            "bild.txt",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec(),
        ),
    ] {
        let a = upload(&admin, form(measure, "x", "", name, bytes)).await;
        assert_eq!(
            a.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{name}: {}",
            a.body
        );
    }
    assert!(
        files_under(&evidence_dir).is_empty(),
        "{:?}",
        files_under(&evidence_dir)
    );
    let list = admin
        .call("evidence/list", &[("measure_id", &measure.to_string())])
        .await;
    let list: MeasureEvidence = serde_json::from_str(&list.body).unwrap();
    assert!(list.items.is_empty());

    // A path as file name: stored under its hash, shown as its last part.
    let a = upload(
        &admin,
        form(
            measure,
            "",
            "",
            "../../etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\n".to_vec(),
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let r: UploadResult = serde_json::from_str(&a.body).unwrap();
    assert_eq!(r.file_name, "passwd");
    assert_eq!(r.content_type, "text/plain; charset=utf-8");
    let stored = files_under(&evidence_dir);
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].starts_with(&evidence_dir) && stored[0].ends_with(&r.sha256),
        "{stored:?}"
    );
    let (_, headers, _) = download(&admin, r.version_id).await;
    assert_eq!(
        headers["content-disposition"].to_str().unwrap(),
        "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"
    );

    // Unknown measure, bad date: refused before anything is stored.
    let a = upload(&admin, form(999_999, "x", "", "a.pdf", PDF.to_vec())).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = upload(
        &admin,
        form(measure, "x", "31.02.2027", "a.pdf", PDF.to_vec()),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(files_under(&evidence_dir).len(), 1);
    app.stop().await;
}
crate::both!(bad_uploads_are_refused_and_leave_nothing);

/// The storage contract, run against the local directory and a real S3 server.
async fn store_contract(store: &dyn BlobStore) {
    let bytes = b"Nachweis evidence store contract".to_vec();
    let sha = hex::encode(Sha256::digest(&bytes));
    let staged = app::blobs::Staged::new_in(store.staging_dir());
    std::fs::write(staged.path(), &bytes).unwrap();
    assert!(!store.exists(&sha).await.unwrap());
    store.put_file(&sha, staged.path()).await.unwrap();
    staged.keep();
    assert!(store.exists(&sha).await.unwrap());
    // Storing the same content again is a no-op that consumes the staged file.
    let again = app::blobs::Staged::new_in(store.staging_dir());
    std::fs::write(again.path(), &bytes).unwrap();
    store.put_file(&sha, again.path()).await.unwrap();
    assert!(!again.path().exists());
    again.keep();
    use futures::TryStreamExt;
    let read: Vec<u8> = store
        .open(&sha)
        .await
        .unwrap()
        .map_ok(|b| b.to_vec())
        .try_concat()
        .await
        .unwrap();
    assert_eq!(read, bytes);
    let listed = store.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sha256, sha);
    assert_eq!(listed[0].size, bytes.len() as u64);
    // Keys that are not hashes are refused (no path games).
    assert!(store.exists("../../etc/passwd").await.is_err());
    store.delete(&sha).await.unwrap();
    assert!(!store.exists(&sha).await.unwrap());
    store.delete(&sha).await.unwrap();
    assert!(store.open(&sha).await.is_err());
    assert!(
        std::fs::read_dir(store.staging_dir())
            .unwrap()
            .next()
            .is_none()
    );
}

#[tokio::test]
async fn local_store_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        server::storage::LocalStore::new(dir.path().join("blobs"), dir.path().join("staging"))
            .unwrap();
    store_contract(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_store_keeps_the_contract() {
    let s3 = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let store = server::storage::S3Store::new(&s3.config(), dir.path().join("staging")).unwrap();
    store_contract(&store).await;
    // Larger than one part: the multipart path.
    let big: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let sha = hex::encode(Sha256::digest(&big));
    let staged = app::blobs::Staged::new_in(store.staging_dir());
    std::fs::write(staged.path(), &big).unwrap();
    store.put_file(&sha, staged.path()).await.unwrap();
    staged.keep();
    use futures::TryStreamExt;
    let read: Vec<u8> = store
        .open(&sha)
        .await
        .unwrap()
        .map_ok(|b| b.to_vec())
        .try_concat()
        .await
        .unwrap();
    assert!(read == big);
}
