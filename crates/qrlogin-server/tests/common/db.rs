//! The storage a test runs on: SQLite in a temporary data directory by default, or, when
//! `QRLOGIN_TEST_DATABASE_URL` names a PostgreSQL server (scripts/pg-test.sh starts one), a
//! fresh database of the test's own, dropped when the test ends, so tests still run in parallel.
#![allow(dead_code)]

use qrlogin_server::OpenOptions;

pub const DATABASE_URL_ENV: &str = "QRLOGIN_TEST_DATABASE_URL";

pub struct TestDb {
    /// The data directory (holds the SQLite file; unused on PostgreSQL but always there).
    pub dir: tempfile::TempDir,
    /// The test's own PostgreSQL database, if the suite runs on PostgreSQL.
    pub url: Option<String>,
    admin_url: Option<String>,
    name: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let Some(admin) = std::env::var(DATABASE_URL_ENV)
            .ok()
            .filter(|u| !u.is_empty())
        else {
            return TestDb {
                dir,
                url: None,
                admin_url: None,
                name: String::new(),
            };
        };
        let name = format!("t_{}", random_lowercase(16));
        let mut url = url::Url::parse(&admin).expect("QRLOGIN_TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        let create = format!("CREATE DATABASE {name}");
        admin_exec(&admin, &create);
        TestDb {
            dir,
            url: Some(url.to_string()),
            admin_url: Some(admin),
            name,
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.url.is_some()
    }

    /// What `Server::open` needs to open this test's storage (again, for a restart or for a
    /// second instance).
    pub fn open_options(&self) -> OpenOptions {
        let options = OpenOptions::new(self.dir.path());
        match &self.url {
            Some(url) => options.database_url(url.clone()),
            None => options,
        }
    }

    /// Everything stored, as text: the SQLite file and its write-ahead log, or every row of
    /// every table (to check what is and is not kept, e.g. no plain passwords).
    pub fn raw_text(&self) -> String {
        match &self.url {
            None => {
                let file = self.dir.path().join(qrlogin_server::DB_FILE);
                let mut bytes = std::fs::read(&file).expect("db file");
                let wal = self
                    .dir
                    .path()
                    .join(format!("{}-wal", qrlogin_server::DB_FILE));
                bytes.extend(std::fs::read(wal).unwrap_or_default());
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Some(url) => {
                let url = url.clone();
                on_own_runtime(async move {
                    use sqlx::Connection;
                    let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
                    let mut text = String::new();
                    for table in [
                        "meta",
                        "apps",
                        "users",
                        "qr_sessions",
                        "auth_sessions",
                        "refresh_tokens",
                        "login_history",
                    ] {
                        let rows: Vec<String> =
                            sqlx::query_scalar(&format!("SELECT (t.*)::text FROM {table} t"))
                                .fetch_all(&mut c)
                                .await
                                .expect("dump");
                        text.extend(rows.into_iter().map(|r| r + "\n"));
                    }
                    text
                })
            }
        }
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(admin) = &self.admin_url {
            // FORCE: the servers of the test may still hold pooled connections.
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            admin_exec(admin, &drop);
        }
    }
}

fn admin_exec(admin: &str, sql: &str) {
    let (admin, sql) = (admin.to_owned(), sql.to_owned());
    on_own_runtime(async move {
        use sqlx::Connection;
        let mut c = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| {
                panic!("cannot reach the test PostgreSQL ({DATABASE_URL_ENV}): {e}")
            });
        sqlx::query(&sql)
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        let _ = c.close().await;
    })
}

/// Runs `fut` to completion on a runtime of its own in a thread of its own, so that it works
/// from sync tests, from async tests and from `Drop`.
fn on_own_runtime<T: Send + 'static>(
    fut: impl std::future::Future<Output = T> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(fut)
    })
    .join()
    .expect("database helper thread")
}

fn random_lowercase(n: usize) -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| char::from(b'a' + rng.gen_range(0..26u8)))
        .collect()
}
