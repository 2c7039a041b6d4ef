//! Checking the bot's requests (and the fake's own answers) against Discord's OpenAPI 3.1
//! description, read at run time from a file and compiled once per process.
//!
//! The whole spec document is registered as one JSON Schema resource; a request body is checked
//! against `{"$ref": "<doc>#/paths/<templated path>/<method>/requestBody/content/<type>/schema"}`
//! so the spec's `#/components/schemas/...` references resolve inside it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, ValidationError, Validator};
use serde_json::{Value, json};

/// Name of the environment variable that can point at the spec file.
pub const SPEC_ENV_VAR: &str = "DISCORD_API_SPEC";

/// The URI under which the spec document is registered.
const DOC_URI: &str = "https://fake-discord.invalid/discord-openapi.json";

/// The path used when neither the options nor `DISCORD_API_SPEC` name one: the `shared` folder
/// beside the project root (`<fake-discord>/../../shared/discord-api-spec/openapi.json`).
pub fn default_spec_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("discord-api-spec")
        .join("openapi.json")
}

/// The spec path to use: an explicit one, else `DISCORD_API_SPEC`, else [`default_spec_path`].
pub fn resolve_spec_path(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    match std::env::var_os(SPEC_ENV_VAR) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => default_spec_path(),
    }
}

/// `payload` with each `attachments[].id` (at the top, or under `data` in an interaction's
/// answer) that is a whole number written as the snowflake text it stands for. The spec types
/// these ids as snowflake strings, but Discord's own file-upload example sends `"id": 0`, and so
/// does serenity's `CreateAttachment`: Discord reads both.
fn attachment_ids_as_text(payload: &Value) -> Value {
    let mut payload = payload.clone();
    let holder = if payload.get("data").is_some() {
        &mut payload["data"]
    } else {
        &mut payload
    };
    if let Some(list) = holder.get_mut("attachments").and_then(Value::as_array_mut) {
        for attachment in list {
            if let Some(id) = attachment.get("id").and_then(Value::as_u64) {
                attachment["id"] = Value::String(id.to_string());
            }
        }
    }
    payload
}

/// A request body as the fake received it, ready for checking.
#[derive(Debug)]
pub(crate) enum BodyForCheck<'a> {
    /// No body (or an empty one).
    None,
    /// A JSON body (`application/json`), parsed.
    Json(&'a Value),
    /// A `multipart/form-data` body; its `payload_json` part, parsed, if there was one.
    Multipart(Option<&'a Value>),
    /// A body that could not be understood (not JSON, unknown content type...).
    Unreadable(String),
}

#[derive(Debug)]
struct RequestBodySpec {
    required: bool,
    /// JSON pointer (unescaped form not needed: already escaped) to the JSON schema, if the
    /// operation accepts `application/json`.
    json: Option<String>,
    /// Pointer to the multipart schema, if the operation accepts `multipart/form-data`.
    multipart: Option<String>,
}

#[derive(Debug)]
struct Operation {
    method: String,
    template: String,
    /// `None` for a `{parameter}` segment.
    segments: Vec<Option<String>>,
    request: Option<RequestBodySpec>,
    /// Status key ("200", "204", "4XX"...) → pointer to the JSON response schema (None: no body).
    responses: Vec<(String, Option<String>)>,
    /// Path and query parameters (operation-level ones override path-level ones).
    params: Vec<ParamSpec>,
}

#[derive(Debug)]
struct ParamSpec {
    name: String,
    in_query: bool,
    required: bool,
    /// Pointer to the parameter's schema.
    schema: Option<String>,
}

fn parse_params(doc: &Value, base: &str, out: &mut Vec<ParamSpec>) {
    let Some(list) = doc
        .pointer(&format!("{base}/parameters"))
        .and_then(Value::as_array)
    else {
        return;
    };
    for i in 0..list.len() {
        let ptr = follow_local_ref(doc, format!("{base}/parameters/{i}"));
        let Some(p) = doc.pointer(&ptr) else {
            continue;
        };
        let (Some(name), Some(location)) = (
            p.get("name").and_then(Value::as_str),
            p.get("in").and_then(Value::as_str),
        ) else {
            continue;
        };
        if location != "query" && location != "path" {
            continue;
        }
        let spec = ParamSpec {
            name: name.to_owned(),
            in_query: location == "query",
            required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
            schema: p.get("schema").map(|_| format!("{ptr}/schema")),
        };
        out.retain(|q| !(q.name == spec.name && q.in_query == spec.in_query));
        out.push(spec);
    }
}

/// Discord's API description, compiled for checking.
pub(crate) struct SpecChecker {
    path: PathBuf,
    registry: Registry<'static>,
    operations: Vec<Operation>,
    validators: Mutex<HashMap<String, Result<Arc<Validator>, String>>>,
}

impl std::fmt::Debug for SpecChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpecChecker")
            .field("path", &self.path)
            .field("operations", &self.operations.len())
            .finish()
    }
}

fn escape_pointer_token(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Percent-encodes what may not stand in a URI fragment.
fn fragment_encode(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for b in pointer.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/?".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Follows a local `$ref` (`#/components/...`) in the document, returning the pointer reached.
fn follow_local_ref(doc: &Value, pointer: String) -> String {
    let mut pointer = pointer;
    for _ in 0..8 {
        match doc
            .pointer(&pointer)
            .and_then(|v| v.get("$ref"))
            .and_then(Value::as_str)
        {
            Some(r) if r.starts_with("#/") => pointer = r[1..].to_owned(),
            _ => break,
        }
    }
    pointer
}

fn parse_operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return ops;
    };
    for (template, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        let segments: Vec<Option<String>> = template
            .trim_start_matches('/')
            .split('/')
            .map(|s| {
                if s.starts_with('{') && s.ends_with('}') {
                    None
                } else {
                    Some(s.to_owned())
                }
            })
            .collect();
        for (method, op) in item {
            if !matches!(
                method.as_str(),
                "get" | "put" | "post" | "delete" | "patch" | "head" | "options"
            ) {
                continue;
            }
            let op_ptr = format!("/paths/{}/{}", escape_pointer_token(template), method);
            let request = op.get("requestBody").map(|_| {
                let rb_ptr = follow_local_ref(doc, format!("{op_ptr}/requestBody"));
                let rb = doc.pointer(&rb_ptr).cloned().unwrap_or(Value::Null);
                let content = rb.get("content");
                let has = |ct: &str| content.and_then(|c| c.get(ct)).is_some();
                let ptr =
                    |ct: &str| format!("{rb_ptr}/content/{}/schema", escape_pointer_token(ct));
                RequestBodySpec {
                    required: rb.get("required").and_then(Value::as_bool).unwrap_or(false),
                    json: has("application/json").then(|| ptr("application/json")),
                    multipart: has("multipart/form-data").then(|| ptr("multipart/form-data")),
                }
            });
            let mut responses = Vec::new();
            if let Some(rs) = op.get("responses").and_then(Value::as_object) {
                for status in rs.keys() {
                    let r_ptr = follow_local_ref(
                        doc,
                        format!("{op_ptr}/responses/{}", escape_pointer_token(status)),
                    );
                    let has_json = doc
                        .pointer(&r_ptr)
                        .and_then(|r| r.get("content"))
                        .and_then(|c| c.get("application/json"))
                        .is_some();
                    responses.push((
                        status.clone(),
                        has_json.then(|| format!("{r_ptr}/content/application~1json/schema")),
                    ));
                }
            }
            let mut params = Vec::new();
            parse_params(
                doc,
                &format!("/paths/{}", escape_pointer_token(template)),
                &mut params,
            );
            parse_params(doc, &op_ptr, &mut params);
            ops.push(Operation {
                method: method.to_ascii_uppercase(),
                template: template.clone(),
                segments: segments.clone(),
                request,
                responses,
                params,
            });
        }
    }
    ops
}

/// Renders validation errors briefly; for `anyOf`/`oneOf` failures, explains the alternative that
/// got furthest (the one whose errors lie deepest in the body) instead of printing the body.
fn render_errors<'a>(errors: impl Iterator<Item = ValidationError<'a>>, out: &mut Vec<String>) {
    for e in errors {
        render_error(&e, out, 0);
    }
}
fn depth(e: &ValidationError<'_>) -> usize {
    e.instance_path().as_str().matches('/').count()
}

/// Whether a failed `anyOf`/`oneOf` alternative failed on its discriminator (`type` not one of
/// the values the alternative is for), i.e. it was never the alternative meant.
fn wrong_alternative(parent: &ValidationError<'_>, branch: &[ValidationError<'_>]) -> bool {
    let discriminator = format!("{}/type", parent.instance_path().as_str());
    branch.iter().any(|e| {
        e.instance_path().as_str() == discriminator
            && matches!(
                e.kind(),
                ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. }
            )
    })
}

/// The error's message without printing a large instance (a 4001-character string becomes
/// "a string of 4001 characters").
fn message(e: &ValidationError<'_>) -> String {
    let instance: &Value = e.instance();
    if instance.to_string().len() <= 120 {
        return e.to_string();
    }
    let placeholder = match instance {
        Value::String(s) => format!("a string of {} characters", s.chars().count()),
        Value::Array(a) => format!("an array of {} items", a.len()),
        Value::Object(_) => "the object".to_owned(),
        _ => "the value".to_owned(),
    };
    e.masked_with(placeholder).to_string()
}

fn render_error(e: &ValidationError<'_>, out: &mut Vec<String>, level: usize) {
    let at = match e.instance_path().as_str() {
        "" => "(body)".to_owned(),
        p => p.to_owned(),
    };
    match e.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context }
            if level < 6 =>
        {
            // Explain the alternative that was most likely meant: one whose `type` matched,
            // then the one whose errors lie deepest, then the one with the fewest errors.
            let best = context
                .iter()
                .filter(|branch| !branch.is_empty())
                .max_by_key(|branch| {
                    (
                        !wrong_alternative(e, branch),
                        branch.iter().map(depth).max().unwrap_or(0),
                        std::cmp::Reverse(branch.len()),
                    )
                });
            match best {
                Some(branch) if branch.iter().map(depth).max().unwrap_or(0) > depth(e) => {
                    for inner in branch {
                        render_error(inner, out, level + 1);
                    }
                }
                _ => out.push(format!(
                    "{at}: matches none of the {} alternatives the spec allows here",
                    context.len()
                )),
            }
        }
        _ => out.push(format!("{at}: {}", message(e))),
    }
}

impl SpecChecker {
    fn load(path: &Path) -> Result<SpecChecker, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not JSON: {e}", path.display()))?;
        let operations = parse_operations(&doc);
        if operations.is_empty() {
            return Err(format!("{} has no paths", path.display()));
        }
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(DOC_URI, doc)
            .and_then(|b| b.prepare())
            .map_err(|e| format!("cannot register {}: {e}", path.display()))?;
        Ok(SpecChecker {
            path: path.to_path_buf(),
            registry,
            operations,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// The spec file this checker was built from.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The operation for a method and a concrete path relative to `/api/v10` (e.g.
    /// `/channels/1/messages`). When several templates match, the one with more literal segments
    /// wins, earlier literals first (`/messages/bulk-delete` over `/messages/{message_id}`).
    fn find(&self, method: &str, route: &str) -> Option<&Operation> {
        let segs: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        self.operations
            .iter()
            .filter(|op| op.method == method && op.segments.len() == segs.len())
            .filter(|op| {
                op.segments
                    .iter()
                    .zip(&segs)
                    .all(|(t, s)| t.as_deref().is_none_or(|lit| lit == *s))
            })
            .max_by_key(|op| {
                op.segments
                    .iter()
                    .map(|s| s.is_some())
                    .collect::<Vec<bool>>()
            })
    }

    /// The templated path (e.g. `/channels/{channel_id}/messages`) for a request, if any.
    pub(crate) fn template_for(&self, method: &str, route: &str) -> Option<String> {
        self.find(method, route).map(|op| op.template.clone())
    }

    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(v) = cache.get(pointer) {
            return v.clone();
        }
        let schema = json!({"$ref": format!("{DOC_URI}#{}", fragment_encode(pointer))});
        let built = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&schema)
            .map(Arc::new)
            .map_err(|e| format!("cannot compile the spec's schema at {pointer}: {e}"));
        cache.insert(pointer.to_owned(), built.clone());
        built
    }

    fn validate(&self, pointer: &str, instance: &Value) -> Vec<String> {
        match self.validator(pointer) {
            Ok(v) => {
                let mut out = Vec::new();
                render_errors(v.iter_errors(instance), &mut out);
                out
            }
            Err(e) => {
                tracing::warn!("fake-discord: {e}");
                Vec::new()
            }
        }
    }

    /// Checks one request. `route` is the path after `/api/v10`. Returns the problems found.
    pub(crate) fn check_request(
        &self,
        method: &str,
        route: &str,
        query: &[(String, String)],
        body: &BodyForCheck<'_>,
    ) -> Vec<String> {
        let Some(op) = self.find(method, route) else {
            return vec![format!(
                "the spec has no operation {method} {route} (is the route or method wrong?)"
            )];
        };
        let mut problems = self.check_params(op, route, query);
        problems.extend(self.check_body(op, body));
        problems
    }

    /// Checks a parameter value given as text against its schema: as a string, and as the
    /// number or boolean it spells, since a URL cannot tell them apart.
    fn check_param_value(&self, pointer: &str, raw: &str) -> Vec<String> {
        let mut candidates = vec![Value::String(raw.to_owned())];
        if let Ok(n) = raw.parse::<i64>() {
            candidates.push(json!(n));
        } else if let Ok(x) = raw.parse::<f64>() {
            candidates.push(json!(x));
        }
        if raw == "true" || raw == "false" {
            candidates.push(json!(raw == "true"));
        }
        let mut last = Vec::new();
        for c in &candidates {
            last = self.validate(pointer, c);
            if last.is_empty() {
                return last;
            }
        }
        last
    }

    fn check_params(&self, op: &Operation, route: &str, query: &[(String, String)]) -> Vec<String> {
        let mut out = Vec::new();
        let template_segs = op.template.trim_start_matches('/').split('/');
        let route_segs = route.trim_start_matches('/').split('/');
        for (t, r) in template_segs.zip(route_segs) {
            let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
                continue;
            };
            let value = percent_encoding::percent_decode_str(r).decode_utf8_lossy();
            if let Some(ptr) = op
                .params
                .iter()
                .find(|p| !p.in_query && p.name == name)
                .and_then(|p| p.schema.as_ref())
            {
                for m in self.check_param_value(ptr, &value) {
                    out.push(format!("path parameter {name} {m}"));
                }
            }
        }
        for (name, value) in query {
            match op.params.iter().find(|p| p.in_query && p.name == *name) {
                None => out.push(format!(
                    "query parameter {name:?} is not one the spec lists for {} {}",
                    op.method, op.template
                )),
                Some(p) => {
                    if let Some(ptr) = &p.schema {
                        for m in self.check_param_value(ptr, value) {
                            out.push(format!("query parameter {name} {m}"));
                        }
                    }
                }
            }
        }
        for p in op.params.iter().filter(|p| p.in_query && p.required) {
            if !query.iter().any(|(k, _)| *k == p.name) {
                out.push(format!("required query parameter {} is missing", p.name));
            }
        }
        out
    }

    fn check_body(&self, op: &Operation, body: &BodyForCheck<'_>) -> Vec<String> {
        let Some(rb) = &op.request else {
            return match body {
                BodyForCheck::None => Vec::new(),
                BodyForCheck::Json(Value::Null) => Vec::new(),
                BodyForCheck::Json(Value::Object(m)) if m.is_empty() => Vec::new(),
                _ => vec![format!(
                    "{} {} takes no request body, but one was sent",
                    op.method, op.template
                )],
            };
        };
        match body {
            BodyForCheck::None => {
                if rb.required {
                    vec!["the spec requires a request body, none was sent".to_owned()]
                } else {
                    Vec::new()
                }
            }
            BodyForCheck::Json(v) => match &rb.json {
                Some(p) => self.validate(p, v),
                None => vec!["the spec does not accept an application/json body here".to_owned()],
            },
            BodyForCheck::Multipart(payload) => {
                let Some(payload) = payload else {
                    return Vec::new();
                };
                let payload = &attachment_ids_as_text(payload);
                match rb.json.as_ref().or(rb.multipart.as_ref()) {
                    Some(p) => self
                        .validate(p, payload)
                        .into_iter()
                        .map(|m| format!("payload_json {m}"))
                        .collect(),
                    None => vec!["the spec does not accept a multipart body here".to_owned()],
                }
            }
            BodyForCheck::Unreadable(why) => vec![why.clone()],
        }
    }

    /// Checks one of the fake's own answers against the spec's response schema for its status.
    pub(crate) fn check_response(
        &self,
        method: &str,
        route: &str,
        status: u16,
        body: Option<&Value>,
    ) -> Vec<String> {
        let Some(op) = self.find(method, route) else {
            return Vec::new();
        };
        let exact = status.to_string();
        let class = format!("{}XX", status / 100);
        let entry = op
            .responses
            .iter()
            .find(|(s, _)| *s == exact)
            .or_else(|| op.responses.iter().find(|(s, _)| *s == class));
        match (entry, body) {
            (None, _) => vec![format!(
                "the spec lists no {status} answer for {} {}",
                op.method, op.template
            )],
            (Some((_, Some(ptr))), Some(b)) => self.validate(ptr, b),
            (Some((_, Some(_))), None) => vec![format!("status {status} needs a JSON body")],
            (Some((_, None)), Some(_)) if status == 204 => {
                vec!["a 204 answer must have no body".to_owned()]
            }
            _ => Vec::new(),
        }
    }
}

static CHECKERS: OnceLock<Mutex<HashMap<PathBuf, Option<Arc<SpecChecker>>>>> = OnceLock::new();

/// The compiled checker for a spec file, loaded at most once per process and path. `None` if the
/// file is absent or unusable (logged once).
pub(crate) fn checker_for(path: &Path) -> Option<Arc<SpecChecker>> {
    let map = CHECKERS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(c) = map.get(path) {
        return c.clone();
    }
    let checker = if path.exists() {
        match SpecChecker::load(path) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                tracing::warn!("fake-discord: spec checking disabled: {e}");
                eprintln!("fake-discord: spec checking disabled: {e}");
                None
            }
        }
    } else {
        tracing::info!(
            "fake-discord: no Discord API spec at {}; spec checking skipped",
            path.display()
        );
        eprintln!(
            "fake-discord: no Discord API spec at {} (set {SPEC_ENV_VAR}); spec checking skipped",
            path.display()
        );
        None
    };
    map.insert(path.to_path_buf(), checker.clone());
    checker
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checker, or `None` when the spec file is absent (then these tests have nothing to
    /// check). A present but unusable file fails the test.
    fn checker() -> Option<Arc<SpecChecker>> {
        let path = resolve_spec_path(None);
        let c = checker_for(&path);
        assert!(
            c.is_some() || !path.exists(),
            "{} exists but could not be loaded",
            path.display()
        );
        c
    }

    #[test]
    fn matches_templates_preferring_literals() {
        let Some(c) = checker() else { return };
        assert_eq!(
            c.template_for("POST", "/channels/1/messages/bulk-delete")
                .as_deref(),
            Some("/channels/{channel_id}/messages/bulk-delete")
        );
        assert_eq!(
            c.template_for("PATCH", "/webhooks/1/tok/messages/@original")
                .as_deref(),
            Some("/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        );
        assert_eq!(
            c.template_for("PUT", "/applications/5/commands").as_deref(),
            Some("/applications/{application_id}/commands")
        );
        assert_eq!(c.template_for("PUT", "/nonsense/5"), None);
    }

    #[test]
    fn a_multipart_payload_may_number_its_attachments_as_discord_documents() {
        let Some(c) = checker() else { return };
        let check = |payload: &Value| {
            c.check_request(
                "POST",
                "/channels/1/messages",
                &[],
                &BodyForCheck::Multipart(Some(payload)),
            )
        };
        let numbered = json!({"content": "hi", "attachments": [{"id": 0, "filename": "a.png"}]});
        assert!(check(&numbered).is_empty(), "{:?}", check(&numbered));
        let text = json!({"content": "hi", "attachments": [{"id": "0", "filename": "a.png"}]});
        assert!(check(&text).is_empty());
        let wrong = json!({"content": "hi", "attachments": [{"id": "zero", "filename": "a.png"}]});
        assert!(!check(&wrong).is_empty(), "still checked");
        let answer = json!({"type": 4, "data": {"attachments": [{"id": 0, "filename": "a.png"}]}});
        assert_eq!(
            attachment_ids_as_text(&answer)["data"]["attachments"][0]["id"],
            "0"
        );
    }

    #[test]
    fn validates_bodies() {
        let Some(c) = checker() else { return };
        let ok = json!({"content": "hi", "allowed_mentions": {"parse": []}});
        assert!(
            c.check_request(
                "POST",
                "/channels/1/messages",
                &[],
                &BodyForCheck::Json(&ok)
            )
            .is_empty()
        );
        let long = json!({"content": "x".repeat(4001)});
        let errs = c.check_request(
            "POST",
            "/channels/1/messages",
            &[],
            &BodyForCheck::Json(&long),
        );
        assert!(errs.iter().any(|e| e.contains("/content")), "{errs:?}");
        let cb = json!({"type": 4, "data": {"content": "y".repeat(2001)}});
        let errs = c.check_request(
            "POST",
            "/interactions/1/tok/callback",
            &[],
            &BodyForCheck::Json(&cb),
        );
        assert!(errs.iter().any(|e| e.contains("/data/content")), "{errs:?}");
    }

    #[test]
    fn validates_query_and_path_parameters() {
        let Some(c) = checker() else { return };
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let route = "/channels/1/messages/2/reactions/%F0%9F%99%8F";
        let ok = c.check_request(
            "GET",
            route,
            &q(&[("limit", "25"), ("after", "5")]),
            &BodyForCheck::None,
        );
        assert!(ok.is_empty(), "{ok:?}");
        let zero = c.check_request("GET", route, &q(&[("limit", "0")]), &BodyForCheck::None);
        assert!(zero.iter().any(|e| e.contains("limit")), "{zero:?}");
        let unknown = c.check_request("GET", route, &q(&[("page", "2")]), &BodyForCheck::None);
        assert!(
            unknown.iter().any(|e| e.contains("\"page\"")),
            "{unknown:?}"
        );
        let bad_id = c.check_request("GET", "/channels/abc", &[], &BodyForCheck::None);
        assert!(
            bad_id.iter().any(|e| e.contains("channel_id")),
            "{bad_id:?}"
        );
    }
}
