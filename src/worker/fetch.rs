//! Downloads in the compute worker: `fetch` with byte progress, cooperative cancel, an optional
//! Cache Storage copy, and errors that tell "offline or blocked" from "the server said no".

use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Cache, ReadableStreamDefaultReader, ReferrerPolicy, RequestInit, Response};

/// Why a download failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// The request never got an answer: offline, blocked, or refused by CORS.
    #[error("could not reach {url} ({message}); the network is offline or the request is blocked")]
    Network {
        /// The URL.
        url: String,
        /// The browser's message.
        message: String,
    },
    /// The server answered with an error status.
    #[error("{url}: the server answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The body could not be read to the end.
    #[error("{url}: the download broke off ({message})")]
    Read {
        /// The URL.
        url: String,
        /// The browser's message.
        message: String,
    },
    /// What arrived is not what was expected (e.g. a corrupt weights file); the download was
    /// stopped.
    #[error("{message} ({url})")]
    Invalid {
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The job was cancelled.
    #[error("cancelled")]
    Cancelled,
}

/// How to fetch.
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchOptions<'a> {
    /// Send no `Referer` header (for third-party hosts).
    pub no_referrer: bool,
    /// Look the URL up in, and store it into, this Cache Storage cache.
    pub cache: Option<&'a str>,
}

fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

async fn open_cache(name: &str) -> Option<Cache> {
    let scope: web_sys::WorkerGlobalScope = js_sys::global().dyn_into().ok()?;
    let caches = scope.caches().ok()?;
    JsFuture::from(caches.open(name))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// Whether `url` is in the cache `name`.
pub async fn is_cached(name: &str, url: &str) -> bool {
    let Some(cache) = open_cache(name).await else {
        return false;
    };
    JsFuture::from(cache.match_with_str(url))
        .await
        .map(|r| r.is_instance_of::<Response>())
        .unwrap_or(false)
}

/// The size of `url` as a `HEAD` request reports it: `Ok(None)` for a 404, `Ok(Some(None))`
/// when the server states no length.
pub async fn fetch_size(url: &str, no_referrer: bool) -> Result<Option<Option<u64>>, FetchError> {
    let init = RequestInit::new();
    init.set_method("HEAD");
    if no_referrer {
        init.set_referrer_policy(ReferrerPolicy::NoReferrer);
    }
    let network = |e: JsValue| FetchError::Network {
        url: url.into(),
        message: describe(&e),
    };
    let scope: web_sys::WorkerGlobalScope = js_sys::global()
        .dyn_into()
        .map_err(|_| network(JsValue::from_str("not in a worker")))?;
    let response: Response = JsFuture::from(scope.fetch_with_str_and_init(url, &init))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    match response.status() {
        404 => Ok(None),
        _ if !response.ok() => Err(FetchError::Status {
            url: url.into(),
            status: response.status(),
        }),
        _ => Ok(Some(
            response
                .headers()
                .get("content-length")
                .ok()
                .flatten()
                .and_then(|v| v.parse().ok()),
        )),
    }
}

/// Downloads `url`. `progress(bytes_so_far, content_length)` is called after every chunk; when
/// it returns `false` the download stops with [`FetchError::Cancelled`]. A 404 is returned as
/// `Ok(None)` so that callers can try the next file name.
pub async fn fetch_bytes(
    url: &str,
    options: FetchOptions<'_>,
    progress: &mut dyn FnMut(usize, Option<usize>) -> bool,
) -> Result<Option<Vec<u8>>, FetchError> {
    let mut bytes = Vec::new();
    let got = fetch_chunks(url, options, &mut |chunk, total| {
        if bytes.is_empty() {
            bytes.reserve(total.unwrap_or(0));
        }
        bytes.extend_from_slice(chunk);
        Ok(progress(bytes.len(), total))
    })
    .await?;
    Ok(got.map(|_| bytes))
}

/// Takes each chunk of a download and the stated length: `Ok(true)` to go on, `Ok(false)` to
/// cancel, `Err(message)` when the bytes are bad.
pub type ChunkSink<'a> = dyn FnMut(&[u8], Option<usize>) -> Result<bool, String> + 'a;

/// Downloads `url` chunk by chunk into `sink(chunk, content_length)`, which returns `Ok(false)`
/// to cancel ([`FetchError::Cancelled`]) or an error that stops the download
/// ([`FetchError::Invalid`]). Nothing is kept here: a caller that decodes as it goes never holds
/// the whole body. With a cache, a network answer is copied into it as it streams (the browser
/// holds that copy, outside the worker's memory). `Ok(None)` for a 404; `Ok(Some(bytes))`
/// otherwise.
pub async fn fetch_chunks(
    url: &str,
    options: FetchOptions<'_>,
    sink: &mut ChunkSink<'_>,
) -> Result<Option<usize>, FetchError> {
    let cache = match options.cache {
        Some(name) => open_cache(name).await,
        None => None,
    };
    let mut from_cache = None;
    if let Some(cache) = &cache {
        if let Ok(hit) = JsFuture::from(cache.match_with_str(url)).await {
            from_cache = hit.dyn_into::<Response>().ok();
        }
    }
    let network = |e: JsValue| FetchError::Network {
        url: url.into(),
        message: describe(&e),
    };
    // Aborting the request also stops the copy into the cache (a cancel or a bad file).
    let abort = web_sys::AbortController::new().ok();
    let response = match from_cache.clone() {
        Some(r) => r,
        None => {
            let init = RequestInit::new();
            if options.no_referrer {
                init.set_referrer_policy(ReferrerPolicy::NoReferrer);
            }
            if let Some(a) = &abort {
                init.set_signal(Some(&a.signal()));
            }
            let scope: web_sys::WorkerGlobalScope = js_sys::global()
                .dyn_into()
                .map_err(|_| network(JsValue::from_str("not in a worker")))?;
            JsFuture::from(scope.fetch_with_str_and_init(url, &init))
                .await
                .map_err(network)?
                .dyn_into()
                .map_err(network)?
        }
    };
    if response.status() == 404 {
        return Ok(None);
    }
    if !response.ok() {
        return Err(FetchError::Status {
            url: url.into(),
            status: response.status(),
        });
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    // The cache's copy reads a clone of the body while this reads the original.
    let mut storing = None;
    if let (Some(cache), None) = (&cache, &from_cache) {
        if let Ok(copy) = response.clone() {
            storing = Some(JsFuture::from(cache.put_with_str(url, &copy)));
        }
    }
    let stop = |abort: &Option<web_sys::AbortController>| {
        if let Some(a) = abort {
            a.abort();
        }
    };
    let read_err = |e: JsValue| FetchError::Read {
        url: url.into(),
        message: describe(&e),
    };
    let mut done = 0usize;
    if let Some(body) = response.body() {
        let reader: ReadableStreamDefaultReader = body
            .get_reader()
            .dyn_into()
            .map_err(|o: js_sys::Object| read_err(o.into()))?;
        let mut chunk = Vec::new();
        loop {
            let next = JsFuture::from(reader.read()).await.map_err(read_err)?;
            let finished = Reflect::get(&next, &JsValue::from_str("done"))
                .map_err(read_err)?
                .as_bool()
                .unwrap_or(true);
            if finished {
                break;
            }
            let value = Reflect::get(&next, &JsValue::from_str("value")).map_err(read_err)?;
            let array: Uint8Array = value.dyn_into().map_err(read_err)?;
            chunk.resize(array.length() as usize, 0);
            array.copy_to(&mut chunk);
            done += chunk.len();
            match sink(&chunk, total) {
                Ok(true) => {}
                Ok(false) => {
                    let _ = reader.cancel();
                    stop(&abort);
                    return Err(FetchError::Cancelled);
                }
                Err(message) => {
                    let _ = reader.cancel();
                    stop(&abort);
                    return Err(FetchError::Invalid {
                        url: url.into(),
                        message,
                    });
                }
            }
        }
    }
    if let Some(put) = storing {
        // A full disk or quota only costs the next download; it is not an error.
        let _ = put.await;
    }
    Ok(Some(done))
}
