//! The pool over TLS, as toward Marketing Cloud: against a loopback https server whose
//! certificate (for 127.0.0.1, signed by a test CA; `tests/fixtures`, made with openssl, valid
//! from 2020 to 2126, test-only keys) the connector trusts — or, with an empty root store, does
//! not.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;

use super::*;

const CA: &[u8] = include_bytes!("../../../tests/fixtures/test-ca.pem");
const CERT: &[u8] = include_bytes!("../../../tests/fixtures/localhost-cert.pem");
const KEY: &[u8] = include_bytes!("../../../tests/fixtures/localhost-key.pem");

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The test server's TLS: the 127.0.0.1 certificate and its key.
fn server_config() -> rustls::ServerConfig {
    rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(CERT).unwrap()],
            PrivateKeyDer::from_pem_slice(KEY).unwrap(),
        )
        .unwrap()
}

/// An https server answering its request's path and `Host`; its address and connection count.
async fn https_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service = service_fn(|request: Request<hyper::body::Incoming>| async move {
                    let host = request
                        .headers()
                        .get(header::HOST)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    let text = format!("{} {host}", request.uri());
                    Ok::<_, std::convert::Infallible>(Response::new(Body::from(text)))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (address, accepted)
}

/// An https server that answers the first request on each connection, reads a second one and
/// closes the connection, with a TLS `close_notify` first when `notify`, else by closing the
/// socket alone (as servers and load balancers often do); its address.
async fn closing_on_reuse_https_server(notify: bool) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut request = [0u8; 4096];
                let _ = tls.read(&mut request).await;
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = tls.write_all(answer).await;
                let _ = tls.flush().await;
                let _ = tls.read(&mut request).await;
                if notify {
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    address
}

/// A pool for `https://127.0.0.1:PORT/` trusting `roots`.
fn https_pool(address: SocketAddr, roots: rustls::RootCertStore) -> Arc<Pool> {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let origin = Uri::try_from(format!("https://{address}/")).unwrap();
    let host = HeaderValue::try_from(address.to_string()).unwrap();
    Arc::new(Pool::new(connector, origin, host))
}

fn test_ca() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CA).unwrap())
        .unwrap();
    roots
}

fn get(address: SocketAddr, target: &str) -> Request<Body> {
    Request::get(format!("https://{address}{target}"))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn requests_go_over_tls_in_origin_form_and_reuse_their_connection() {
    let (address, accepted) = https_server().await;
    let pool = https_pool(address, test_ca());
    for round in 0..3 {
        let target = format!("/platform/v1/tokenContext?round={round}");
        let response = pool.send(get(address, &target)).await.unwrap();
        let text = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(text, format!("{target} {address}").as_bytes());
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_certificate_the_roots_do_not_vouch_for_is_refused() {
    let (address, _) = https_server().await;
    let pool = https_pool(address, rustls::RootCertStore::empty());
    let Err(UpstreamError::Failed(reason)) = pool.send(get(address, "/")).await else {
        panic!("an untrusted certificate was accepted");
    };
    assert!(reason.to_lowercase().contains("certificate"), "{reason}");
    assert_eq!(pool.idle_count(), 0);
}

#[tokio::test]
async fn a_reused_tls_connection_closed_before_answering_is_dropped_with_or_without_close_notify() {
    for notify in [true, false] {
        let address = closing_on_reuse_https_server(notify).await;
        let pool = https_pool(address, test_ca());
        let first = pool.send(get(address, "/")).await.unwrap();
        let text = axum::body::to_bytes(first.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(text, "ok");
        match pool.send(get(address, "/")).await {
            Err(UpstreamError::Dropped(reason)) => assert!(!reason.is_empty()),
            Err(UpstreamError::Failed(reason)) => {
                panic!("close_notify {notify}: expected Dropped, got Failed: {reason}")
            }
            other => panic!(
                "close_notify {notify}: expected Dropped, got {:?}",
                other.map(|r| r.status())
            ),
        }
    }
}
