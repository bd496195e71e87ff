//! [`FileStore`], the CLI's token cache: round trip, permissions, sealing (no clear text, wrong
//! secret = miss), atomic replacement (also under concurrent writers), damaged files as misses,
//! `remove_if` and `clear`.

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;
use sfmc_auth::{AccessToken, FileStore, TokenKey, TokenStore};
use support::temp::TempDir;
use support::{ORIGIN_MS, SECRET, access_token, settings, settings_with};

/// A scratch directory for `test`, with the cache directory inside it not yet created (so that
/// the store creates it).
fn scratch(test: &str) -> (TempDir, PathBuf) {
    let dir = TempDir::path_for(&format!("file-store-{test}"));
    let cache = dir.path().join("cache").join("sfmc");
    (dir, cache)
}

fn key() -> TokenKey {
    settings().key()
}

fn secret() -> SecretString {
    SecretString::from(SECRET)
}

fn token_a() -> AccessToken {
    access_token("token-A-0123456789", ORIGIN_MS)
}

fn token_b() -> AccessToken {
    access_token("token-B-9876543210", ORIGIN_MS + 60_000)
}

async fn load(store: &FileStore) -> Option<AccessToken> {
    store.load(&key(), &secret()).await.expect("load")
}

/// The names of the entries of `dir`, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn save_then_load_round_trips_every_field() {
    let (_tmp, cache) = scratch("round-trip");
    let store = FileStore::new(cache.clone());
    assert!(load(&store).await.is_none(), "nothing cached yet");

    let saved = token_a();
    store.save(&key(), &secret(), &saved).await.expect("save");
    let loaded = load(&store).await.expect("cached");

    assert_eq!(loaded.expose(), saved.expose());
    assert_eq!(loaded.expires_at_ms(), saved.expires_at_ms());
    assert_eq!(loaded.scope(), saved.scope());
    assert_eq!(loaded.rest_instance_url(), saved.rest_instance_url());
    assert_eq!(loaded.soap_instance_url(), saved.soap_instance_url());
    assert_eq!(loaded.response().expires_in, saved.response().expires_in);

    // A second store over the same directory (the next CLI run) sees it too.
    let again = FileStore::new(cache.clone());
    assert_eq!(load(&again).await.expect("cached").expose(), saved.expose());
}

#[tokio::test]
async fn one_file_per_key_named_without_the_client_id() {
    let (_tmp, cache) = scratch("per-key");
    let store = FileStore::new(cache.clone());
    let other = settings_with("other-client", SECRET).key();
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save");
    store
        .save(&other, &secret(), &token_b())
        .await
        .expect("save");

    assert_eq!(entries(&cache).len(), 2);
    assert_eq!(load(&store).await.expect("a").expose(), token_a().expose());
    let b = store.load(&other, &secret()).await.expect("load");
    assert_eq!(b.expect("b").expose(), token_b().expose());
    for name in entries(&cache) {
        assert!(
            !name.contains("client"),
            "file name {name} reveals the client id"
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_cache_dir_is_0700_and_the_file_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, cache) = scratch("modes");
    let store = FileStore::new(cache.clone());
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save");

    let dir_mode = fs::metadata(cache.clone())
        .expect("dir")
        .permissions()
        .mode()
        & 0o777;
    let file_mode = fs::metadata(store.path_of(&key()))
        .expect("file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700, "dir mode {dir_mode:o}");
    assert_eq!(file_mode, 0o600, "file mode {file_mode:o}");

    // A replacement is a new file, with the same mode.
    store
        .save(&key(), &secret(), &token_b())
        .await
        .expect("save");
    let file_mode = fs::metadata(store.path_of(&key()))
        .expect("file")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(file_mode, 0o600, "replaced file mode {file_mode:o}");
}

#[tokio::test]
async fn the_file_holds_neither_the_token_nor_the_secret_in_clear() {
    let (_tmp, cache) = scratch("clear-text");
    let store = FileStore::new(cache.clone());
    let secret_text = "s3cret-that-must-not-leak";
    let settings = settings_with("client-id", secret_text);
    let token = token_a();
    store
        .save(&settings.key(), settings.client_secret(), &token)
        .await
        .expect("save");

    let bytes = fs::read(store.path_of(&settings.key())).expect("read");
    let text = String::from_utf8_lossy(&bytes);
    for needle in [token.expose(), secret_text, "token-A", token.scope()] {
        assert!(!text.contains(needle), "the file holds {needle:?} in clear");
    }
    // Not even hex- or base64-like encodings of the token: the bytes are ciphertext.
    assert!(!text.contains(&hex_of(token.expose())));
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn save_replaces_atomically_and_leaves_no_temporary_files() {
    let (_tmp, cache) = scratch("atomic");
    let store = FileStore::new(cache.clone());
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save A");
    let path = store.path_of(&key());
    #[cfg(unix)]
    let inode_a = {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(&path).expect("A").ino()
    };

    store
        .save(&key(), &secret(), &token_b())
        .await
        .expect("save B");

    assert_eq!(load(&store).await.expect("B").expose(), token_b().expose());
    let file_name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(
        entries(&cache),
        vec![file_name],
        "only the token file is left"
    );
    #[cfg(unix)]
    {
        // Replaced by rename (a new inode), not truncated and rewritten in place.
        use std::os::unix::fs::MetadataExt;
        assert_ne!(fs::metadata(&path).expect("B").ino(), inode_a);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_never_leave_a_file_that_fails_to_unseal() {
    let (_tmp, cache) = scratch("concurrent");
    let store = Arc::new(FileStore::new(cache.clone()));
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save A");
    let (a, b) = (token_a().expose().to_owned(), token_b().expose().to_owned());

    let writers: Vec<_> = (0..16)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let token = if w % 2 == 0 { token_a() } else { token_b() };
                for _ in 0..40 {
                    store.save(&key(), &secret(), &token).await.expect("save");
                    tokio::task::yield_now().await;
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            let (a, b) = (a.clone(), b.clone());
            tokio::spawn(async move {
                let mut loads = 0;
                for _ in 0..400 {
                    let loaded = store.load(&key(), &secret()).await.expect("load");
                    let text = loaded.expect("a reader never finds a missing or damaged file");
                    assert!(text.expose() == a || text.expose() == b, "a third token");
                    loads += 1;
                    tokio::task::yield_now().await;
                }
                loads
            })
        })
        .collect();
    for writer in writers {
        writer.await.expect("writer");
    }
    for reader in readers {
        assert_eq!(reader.await.expect("reader"), 400);
    }

    let last = load(&store).await.expect("a token");
    assert!(last.expose() == a || last.expose() == b);
    assert_eq!(entries(&cache).len(), 1, "no temporary files left behind");
}

#[tokio::test]
async fn another_secret_is_a_miss() {
    let (_tmp, cache) = scratch("wrong-secret");
    let store = FileStore::new(cache.clone());
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save");

    let wrong = store
        .load(&key(), &SecretString::from("not-the-secret"))
        .await
        .expect("a miss, not an error");
    assert!(wrong.is_none());
    assert!(
        load(&store).await.is_some(),
        "the right secret still opens it"
    );
}

#[tokio::test]
async fn a_file_sealed_for_another_key_is_a_miss() {
    let (_tmp, cache) = scratch("other-key");
    let store = FileStore::new(cache.clone());
    let other = settings_with("other-client", SECRET).key();
    store
        .save(&other, &secret(), &token_b())
        .await
        .expect("save");
    fs::copy(store.path_of(&other), store.path_of(&key())).expect("copy");

    assert!(
        load(&store).await.is_none(),
        "a file moved from another key is not our token"
    );
}

/// Writes `bytes` as the cache file of [`key`] and loads it.
async fn load_raw(store: &FileStore, bytes: &[u8]) -> Option<AccessToken> {
    fs::create_dir_all(store.dir()).expect("dir");
    fs::write(store.path_of(&key()), bytes).expect("write");
    store
        .load(&key(), &secret())
        .await
        .unwrap_or_else(|e| panic!("a damaged file is a miss, not an error: {e}"))
}

#[tokio::test]
async fn damaged_files_are_misses_never_a_wrong_token() {
    let (_tmp, cache) = scratch("damaged");
    let store = FileStore::new(cache.clone());
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save");
    let good = fs::read(store.path_of(&key())).expect("read");
    assert!(
        load_raw(&store, &good).await.is_some(),
        "the intact file loads"
    );

    assert!(load_raw(&store, b"").await.is_none(), "empty");
    for len in 0..good.len() {
        assert!(
            load_raw(&store, &good[..len]).await.is_none(),
            "truncated to {len}"
        );
    }
    for i in 0..good.len() {
        let mut flipped = good.clone();
        flipped[i] ^= 0x80;
        assert!(
            load_raw(&store, &flipped).await.is_none(),
            "byte {i} flipped"
        );
    }
    let mut extended = good.clone();
    extended.extend_from_slice(b"junk");
    assert!(load_raw(&store, &extended).await.is_none(), "trailing junk");
    let json = br#"{"access_token":"forged","token_type":"Bearer","expires_in":1079}"#;
    assert!(load_raw(&store, json).await.is_none(), "clear-text JSON");
    assert!(load_raw(&store, b"sfmc1\0").await.is_none(), "magic only");

    // 1 MB: of zeros, of pseudo-random bytes, and a real sealed value followed by 1 MB.
    assert!(
        load_raw(&store, &vec![0u8; 1 << 20]).await.is_none(),
        "1 MB of zeros"
    );
    let mut noise = Vec::with_capacity(1 << 20);
    let mut x: u32 = 0x1234_5678;
    while noise.len() < 1 << 20 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    assert!(load_raw(&store, &noise).await.is_none(), "1 MB of noise");
    let mut huge = good.clone();
    huge.extend_from_slice(&noise);
    assert!(
        load_raw(&store, &huge).await.is_none(),
        "sealed value + 1 MB"
    );

    // After all that, a fresh save works again.
    store
        .save(&key(), &secret(), &token_b())
        .await
        .expect("save");
    assert_eq!(load(&store).await.expect("B").expose(), token_b().expose());
}

#[tokio::test]
async fn a_missing_directory_or_file_is_a_miss() {
    let (_tmp, cache) = scratch("missing");
    let store = FileStore::new(cache.clone());
    assert!(load(&store).await.is_none());
    assert!(!cache.clone().exists(), "loading creates nothing");
    store
        .remove_if(&key(), &secret(), &token_a())
        .await
        .expect("removing nothing is fine");
    assert_eq!(store.clear().expect("clear"), 0);
}

#[tokio::test]
async fn remove_if_removes_the_failed_token_and_keeps_a_newer_one() {
    let (_tmp, cache) = scratch("remove-if");
    let store = FileStore::new(cache.clone());
    store
        .save(&key(), &secret(), &token_b())
        .await
        .expect("save B");

    // A 401 with the older token A: B, written by someone else meanwhile, stays.
    store
        .remove_if(&key(), &secret(), &token_a())
        .await
        .expect("remove_if A");
    assert_eq!(
        load(&store).await.expect("B kept").expose(),
        token_b().expose()
    );

    // A 401 with B itself: gone.
    store
        .remove_if(&key(), &secret(), &token_b())
        .await
        .expect("remove_if B");
    assert!(load(&store).await.is_none());
    assert!(!store.path_of(&key()).exists());
}

#[tokio::test]
async fn clear_removes_token_files_and_leftover_temporaries_only() {
    let (_tmp, cache) = scratch("clear");
    let store = FileStore::new(cache.clone());
    let other = settings_with("other-client", SECRET).key();
    store
        .save(&key(), &secret(), &token_a())
        .await
        .expect("save");
    store
        .save(&other, &secret(), &token_b())
        .await
        .expect("save");
    let dir = cache.clone();
    fs::write(dir.join(".0123abcd.00000000deadbeef.tmp"), b"half a write").expect("tmp");
    fs::write(dir.join("config.toml"), b"[server]").expect("other file");
    fs::write(dir.join("notes.txt"), b"keep me").expect("other file");
    fs::write(dir.join("token"), b"no suffix").expect("other file");
    fs::create_dir(dir.join("sub.token.d")).expect("sub dir");

    let removed = store.clear().expect("clear");

    assert_eq!(removed, 3, "two token files and one temporary");
    assert_eq!(
        entries(&dir),
        vec!["config.toml", "notes.txt", "sub.token.d", "token"]
    );
    assert!(load(&store).await.is_none());
    assert_eq!(store.clear().expect("clear again"), 0);
}
