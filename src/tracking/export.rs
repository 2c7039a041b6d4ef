//! A server's record for its own files (`prayer-bot export`): every request
//! it saw, week by week, with how many committed and prayed and whether it
//! was answered, and its praises. Member ids only when asked for
//! (`--with-members`); praise authors never. As JSON, or as CSV (one row
//! per request or praise, quoted as RFC 4180 says).

use serde::Serialize;

use crate::bulletins::parse::Kind;
use crate::bulletins::week::PrayerWeek;
use crate::ids::{GuildId, UserId};
use crate::storage::{Scope, StorageError, Store};
use crate::tracking;

/// The most praises one export holds.
const MOST_PRAISES: u32 = 100_000;

#[derive(Debug, Serialize)]
pub struct Export {
    pub guild: String,
    pub requests: Vec<ExportedRequest>,
    pub praises: Vec<ExportedPraise>,
}

#[derive(Debug, Serialize)]
pub struct ExportedRequest {
    pub week: String,
    pub region: String,
    pub kind: &'static str,
    pub text: String,
    pub prayable: bool,
    pub committed: usize,
    pub prayed: usize,
    pub answered: bool,
    /// Who committed and who prayed, as Discord user ids: only with
    /// `--with-members`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<Members>,
}

#[derive(Debug, Serialize)]
pub struct Members {
    pub committed: Vec<String>,
    pub prayed: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ExportedPraise {
    pub week: String,
    /// The request answered (region · text), or `None` for a praise report.
    pub request: Option<String>,
    pub note: String,
    pub at: String,
}

/// `guild`'s record, from the store.
pub async fn export(
    store: &Store,
    guild: GuildId,
    with_members: bool,
) -> Result<Export, StorageError> {
    let weeks = store.weeks_seen(guild).await?;
    let mut requests = Vec::new();
    for &week in &weeks {
        requests.extend(week_requests(store, guild, week, with_members).await?);
    }
    // Praise reports count in the week they were made, which may have no
    // bulletin: from the first week of all.
    let from = "1970-01-05".parse::<PrayerWeek>().ok();
    let praises = match from {
        Some(from) => store.answered_praises(guild, from, MOST_PRAISES).await?,
        None => Vec::new(),
    };
    let praises = praises
        .into_iter()
        .rev()
        .map(|p| ExportedPraise {
            week: p.week.to_string(),
            request: p.request.map(|(region, text)| format!("{region} · {text}")),
            note: p.note,
            at: p.at.to_rfc3339(),
        })
        .collect();
    Ok(Export {
        guild: guild.to_string(),
        requests,
        praises,
    })
}

/// One week's requests as `guild` saw them, with its counts.
async fn week_requests(
    store: &Store,
    guild: GuildId,
    week: PrayerWeek,
    with_members: bool,
) -> Result<Vec<ExportedRequest>, StorageError> {
    let Some(stored) = store.week(Scope::Guild(guild), week).await? else {
        return Ok(Vec::new());
    };
    let tracking = store.week_tracking(guild, week).await?;
    let ids = |users: &[UserId]| users.iter().map(ToString::to_string).collect();
    Ok(stored
        .bulletin
        .requests
        .iter()
        .zip(&stored.request_ids)
        .map(|(request, &id)| {
            let who = tracking::who(&tracking.marks, id);
            ExportedRequest {
                week: week.to_string(),
                region: request.region.clone(),
                kind: match request.kind {
                    Kind::Petition => "petition",
                    Kind::Praise => "praise",
                },
                text: request.text.clone(),
                prayable: request.is_prayable(),
                committed: who.committed.len(),
                prayed: who.prayed.len(),
                answered: tracking.answered.contains(&id),
                members: with_members.then(|| Members {
                    committed: ids(&who.committed),
                    prayed: ids(&who.prayed),
                }),
            }
        })
        .collect())
}

/// The export as CSV: a header, then a row per request and per praise.
pub fn to_csv(export: &Export) -> String {
    let mut out = String::from(
        "record,week,region,kind,text,prayable,committed,prayed,answered,note,committed_ids,prayed_ids\n",
    );
    for r in &export.requests {
        let (committed_ids, prayed_ids) = match &r.members {
            Some(m) => (m.committed.join(" "), m.prayed.join(" ")),
            None => (String::new(), String::new()),
        };
        let fields = [
            "request".to_owned(),
            r.week.clone(),
            r.region.clone(),
            r.kind.to_owned(),
            r.text.clone(),
            r.prayable.to_string(),
            r.committed.to_string(),
            r.prayed.to_string(),
            r.answered.to_string(),
            String::new(),
            committed_ids,
            prayed_ids,
        ];
        push_row(&mut out, &fields);
    }
    for p in &export.praises {
        let what = p.request.clone().unwrap_or_default();
        let fields = [
            "praise".to_owned(),
            p.week.clone(),
            String::new(),
            String::new(),
            what,
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            p.note.clone(),
            String::new(),
            String::new(),
        ];
        push_row(&mut out, &fields);
    }
    out
}

/// One CSV row: every field quoted, quotes doubled.
fn push_row(out: &mut String, fields: &[String]) {
    let quoted: Vec<String> = fields
        .iter()
        .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
        .collect();
    out.push_str(&quoted.join(","));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::fixtures::{GUILD, now, posted, store};
    use crate::tracking::Source;

    #[tokio::test]
    async fn an_export_counts_prayers_and_names_members_only_when_asked() -> Result<(), StorageError>
    {
        let store = store().await;
        let requests = posted(&store).await?;
        let (ann, bob) = (
            UserId::of::<987_654_321_006>(),
            UserId::of::<987_654_321_007>(),
        );
        store
            .mark(GUILD, requests[0], ann, Source::Commit, now())
            .await?;
        store
            .mark(GUILD, requests[0], bob, Source::Prayed, now())
            .await?;
        let week = "2026-11-23".parse::<PrayerWeek>().expect("a week");
        store
            .record_praise(
                GUILD,
                Some(requests[0]),
                week,
                ann,
                "He said \"yes\"",
                now(),
            )
            .await?;
        let plain = export(&store, GUILD, false).await?;
        let kenya = &plain.requests[0];
        assert_eq!(
            (kenya.committed, kenya.prayed, kenya.answered),
            (1, 1, true)
        );
        assert!(kenya.members.is_none());
        let json = serde_json::to_string(&plain).expect("serialises");
        assert!(
            !json.contains(&ann.to_string()) && !json.contains(&bob.to_string()),
            "{json}"
        );
        let csv = to_csv(&plain);
        assert!(
            csv.contains("\"He said \"\"yes\"\"\""),
            "quotes doubled: {csv}"
        );
        assert_eq!(csv.lines().count(), 1 + plain.requests.len() + 1);
        let full = export(&store, GUILD, true).await?;
        let members = full.requests[0].members.as_ref().expect("asked for");
        assert_eq!(members.committed, [ann.to_string()]);
        assert_eq!(members.prayed, [bob.to_string()]);
        Ok(())
    }
}
