//! The pool's default app is the first app made, and users are listed in the order they were
//! made, on both backends, even when several share a millisecond: both order by
//! `created_at, seq`, and `seq` is insertion order (not SQLite's rowid, which VACUUM may
//! renumber).

mod common;

use common::TestDb;
use qrlogin_server::store::{PgStore, SqliteStore, Store};

/// A raw connection to the store's database, to write rows with chosen times (and, on
/// SQLite, chosen rowids).
enum Raw {
    Pg(sqlx::PgPool),
    Sqlite(sqlx::SqlitePool),
}

async fn open(db: &TestDb) -> (Box<dyn Store>, Raw) {
    match &db.url {
        Some(url) => (
            Box::new(PgStore::connect(url).await.expect("pg")),
            Raw::Pg(sqlx::PgPool::connect(url).await.expect("raw pg")),
        ),
        None => {
            let file = db.dir.path().join(qrlogin_server::DB_FILE);
            let store = SqliteStore::open(&file).await.expect("sqlite");
            let raw = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
                .await
                .expect("raw sqlite");
            (Box::new(store), Raw::Sqlite(raw))
        }
    }
}

/// Inserts rows (`$1` the id, `$2` created_at) in the order given. On SQLite each row gets a
/// rowid lower than the one before, as if renumbered: an order taken from rowid would come out
/// backwards.
async fn insert(raw: &Raw, table_sql: &str, rows: &[(&str, i64)]) {
    for (i, (id, created_at)) in rows.iter().enumerate() {
        match raw {
            Raw::Pg(pool) => {
                let sql = table_sql
                    .replace("{rowid}", "")
                    .replace("{rowid_value}", "");
                sqlx::query(&sql)
                    .bind(id.to_string())
                    .bind(*created_at)
                    .execute(pool)
                    .await
                    .expect("insert");
            }
            Raw::Sqlite(pool) => {
                let sql = table_sql
                    .replace("{rowid}", "rowid, ")
                    .replace("{rowid_value}", &format!("{}, ", 1000 - i as i64));
                sqlx::query(&sql)
                    .bind(id.to_string())
                    .bind(*created_at)
                    .execute(pool)
                    .await
                    .expect("insert");
            }
        }
    }
}

#[tokio::test]
async fn ties_of_created_at_keep_the_order_apps_and_users_were_made_in() {
    let db = TestDb::new();
    let (store, raw) = open(&db).await;

    insert(
        &raw,
        "INSERT INTO apps ({rowid}app_id, app_secret, name, created_at) \
         VALUES ({rowid_value}$1, 'secret', 'App', $2)",
        &[
            ("c-first", 5_000),
            ("b-second", 5_000),
            ("z-older", 4_000),
            ("a-third", 5_000),
        ],
    )
    .await;
    let apps: Vec<String> = store
        .list_apps()
        .await
        .expect("apps")
        .into_iter()
        .map(|a| a.app_id)
        .collect();
    assert_eq!(apps, ["z-older", "c-first", "b-second", "a-third"]);

    insert(
        &raw,
        "INSERT INTO users ({rowid}id, username, password_hash, created_at) \
         VALUES ({rowid_value}$1, $1, 'x', $2)",
        &[("carol", 7_000), ("bob", 7_000), ("alice", 7_000)],
    )
    .await;
    let users: Vec<String> = store
        .list_users()
        .await
        .expect("users")
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(users, ["carol", "bob", "alice"]);
}
