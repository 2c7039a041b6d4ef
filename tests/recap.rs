//! The weekly recap through the fake Discord: the real bot (`prayer-bot
//! run`) with its clock started just before the recap's time, the week of
//! 23 November 2026 posted and prayed for; `/prayer setup recap:` and
//! `/prayer stats chart:true`.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use chrono::Weekday;
use common::{World, instant, until};
use fake_discord::{CommandOption, FakeDiscord, RecordedRequest};
use prayer_bot::bulletins::week::PrayerWeek;
use prayer_bot::ids::{GuildId, UserId};
use prayer_bot::schedule::Schedule;
use prayer_bot::storage::{Scope, Store, WeekPostClaim};
use prayer_bot::tracking::Source;

const WEEK: &str = "2026-11-23";

/// The chart's size in pixels.
const CHART: (u32, u32) = (960, 480);

struct Bot {
    fake: FakeDiscord,
    world: World,
    db: PathBuf,
    child: tokio::process::Child,
    dir: tempfile::TempDir,
}

/// Imports the example bulletin for the week of 23 November, sets the
/// server up (posting Mondays 09:00 UTC by hand only, so nothing but the
/// recap is posted by itself), lets `prepare` add to the store, then
/// starts the bot with its clock at `clock`.
async fn start_at<F, Fut>(clock: &str, prepare: F) -> Bot
where
    F: FnOnce(Store, GuildId, UserId, UserId) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = dir.path().join("prayer-bot.db");
    common::import(&db, &common::project("examples/week-1.txt"), WEEK);
    let fake = FakeDiscord::start_with(fake_discord::Options {
        enforce_limits: true,
        ..fake_discord::Options::default()
    })
    .await;
    let world = World::add_to(&fake);
    let store = common::open_store(&db).await;
    let by_hand = Schedule {
        auto: false,
        ..Schedule::default()
    };
    common::scheduled(&store, world.guild, world.general.id, by_hand).await;
    let guild = GuildId::try_new(world.guild).expect("ids are not 0");
    prepare(
        store.clone(),
        guild,
        user(world.admin.id),
        user(world.member.id),
    )
    .await;
    store.close().await;
    let child = common::spawn_bot(&fake, &db, clock, &dir.path().join("bot.log"));
    common::registered(&fake).await;
    Bot {
        fake,
        world,
        db,
        child,
        dir,
    }
}

/// The week of 23 November posted in `guild`; the admin committed to and
/// prayed for its first prayable request, the member committed to it and
/// prayed for the second; one praise report; the recap on Sundays,
/// chosen on Wednesday.
async fn prayed_week(store: Store, guild: GuildId, admin: UserId, member: UserId) {
    let week: PrayerWeek = WEEK.parse().expect("a week");
    let stored = store
        .week(Scope::Guild(guild), week)
        .await
        .expect("read")
        .expect("imported");
    let monday = instant("2026-11-23T09:00:00Z");
    let claim = store
        .lease_week_post(
            guild,
            week,
            stored.bulletin_id,
            "test",
            monday + chrono::TimeDelta::minutes(2),
            monday,
        )
        .await
        .expect("leased");
    assert_eq!(claim, WeekPostClaim::Claimed);
    store
        .finish_week_post(guild, week, monday)
        .await
        .expect("finished");
    let prayable: Vec<_> = stored
        .bulletin
        .requests
        .iter()
        .zip(&stored.request_ids)
        .filter(|(r, _)| prayer_bot::bulletins::parse::is_prayable(r.kind, &r.text))
        .map(|(_, id)| *id)
        .collect();
    assert!(prayable.len() >= 3, "{prayable:?}");
    for (request, user, source) in [
        (prayable[0], admin, Source::Commit),
        (prayable[0], admin, Source::Prayed),
        (prayable[0], member, Source::Commit),
        (prayable[1], member, Source::Prayed),
    ] {
        store
            .mark(guild, request, user, source, monday)
            .await
            .expect("marked");
    }
    store
        .record_praise(guild, None, week, member, "Answered!", monday)
        .await
        .expect("praised");
    store
        .set_recap_day(guild, Some(Weekday::Sun), instant("2026-11-25T12:00:00Z"))
        .await
        .expect("recap set");
}

fn user(id: u64) -> UserId {
    UserId::try_new(id).expect("ids are not 0")
}

/// The bot's messages to `channel` that carry a file, as Discord took them.
fn with_files(fake: &FakeDiscord, channel: u64) -> Vec<RecordedRequest> {
    fake.requests_matching("POST", &format!("/channels/{channel}/messages$"))
        .into_iter()
        .filter(|r| r.status == 200 && !r.files.is_empty())
        .collect()
}

/// A PNG's width and height, once it decodes whole.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader
        .next_frame(&mut pixels)
        .expect("the whole image decodes");
    (info.width, info.height)
}

/// The number of recaps posted in `channel`.
fn recaps(fake: &FakeDiscord, channel: u64) -> usize {
    common::sent_to(fake, channel)
        .iter()
        .filter(|m| m.starts_with("📊"))
        .count()
}

#[tokio::test]
async fn the_recap_is_posted_once_on_its_day_with_counts_a_chart_and_no_names() {
    // Sunday 29 November, 08:59:57 UTC: the recap is due at 09:00.
    let mut bot = start_at("2026-11-29T08:59:57Z", prayed_week).await;
    let general = bot.world.general.id;
    assert_eq!(recaps(&bot.fake, general), 0, "nothing before 09:00");
    let posted = until("the recap is posted", || async {
        let posted = with_files(&bot.fake, general);
        (!posted.is_empty()).then_some(posted)
    })
    .await;
    assert_eq!(posted.len(), 1);
    let request = &posted[0];
    let body = request.body.clone().unwrap_or_default();
    let text = body["content"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("📊 **The week of Monday 23 November 2026 in review**"),
        "{text}"
    );
    assert!(text.contains("🙋 2 people took part."), "{text}");
    assert!(text.contains("✅ 2 of "), "{text}");
    assert!(text.contains("🤝 1 of 2 commitments kept"), "{text}");
    assert!(text.contains("🎉 "), "{text}");
    for name in [&bot.world.admin.username, &bot.world.member.username] {
        assert!(!text.contains(name.as_str()), "a name in the recap: {text}");
    }
    assert!(!text.contains("<@"), "{text}");
    let mentions = &body["allowed_mentions"];
    for list in ["parse", "users", "roles"] {
        assert!(
            mentions[list].as_array().is_none_or(Vec::is_empty),
            "{mentions}"
        );
    }
    assert_eq!(
        body["attachments"],
        serde_json::json!([{"id": "0", "filename": "coverage.png"}])
    );
    let file = &request.files[0];
    assert_eq!(file.field, "files[0]");
    assert_eq!(file.filename.as_deref(), Some("coverage.png"));
    assert_eq!(file.content_type.as_deref(), Some("image/png"));
    assert_eq!(png_size(&file.data), CHART);
    bot.fake.assert_no_spec_violations();

    // A restart after the recap posts nothing more.
    bot.child.kill().await.expect("the bot stops");
    let log = bot.dir.path().join("second.log");
    let _second = common::spawn_bot(&bot.fake, &bot.db, "2026-11-29T09:00:30Z", &log);
    until("the second process connects", || async {
        (bot.fake.identify_count() >= 2).then_some(())
    })
    .await;
    let status = common::answer(
        &bot.fake,
        &common::prayer(&bot.fake, "status", vec![], bot.world.as_admin()),
    )
    .await;
    assert!(status.text.contains("Last post"), "{}", status.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(recaps(&bot.fake, general), 1, "posted once");
}

#[tokio::test]
async fn a_recap_day_that_is_not_a_weekday_is_refused_and_off_turns_it_off() {
    let bot = start_at("2026-11-25T12:00:00Z", |_, _, _, _| async {}).await;
    let guild = GuildId::try_new(bot.world.guild).expect("ids are not 0");
    let setup = async |options| {
        let sent = common::prayer(&bot.fake, "setup", options, bot.world.as_admin());
        common::answer(&bot.fake, &sent).await
    };
    let refused = setup(vec![
        CommandOption::string("recap", "Funday"),
        CommandOption::string("time", "18:30"),
    ])
    .await
    .text;
    assert!(
        refused.starts_with("“Funday” is not a weekday"),
        "{refused}"
    );
    assert!(refused.ends_with("Nothing was changed."), "{refused}");
    let store = common::open_store(&bot.db).await;
    assert_eq!(store.recap_day(guild).await.expect("read"), None);
    assert_eq!(
        store.schedule(guild).await.expect("read").time,
        Schedule::default().time,
        "the time given with it was not changed"
    );

    let set = setup(vec![CommandOption::string("recap", "sunday")])
        .await
        .text;
    assert!(
        set.contains("is posted in the default channel on Sundays"),
        "{set}"
    );
    assert_eq!(
        store.recap_day(guild).await.expect("read"),
        Some(Weekday::Sun)
    );
    let off = setup(vec![CommandOption::string("recap", "off")])
        .await
        .text;
    assert!(off.contains("No weekly recap is posted."), "{off}");
    assert_eq!(store.recap_day(guild).await.expect("read"), None);
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn stats_with_chart_attaches_the_twelve_weeks_picture() {
    let bot = start_at("2026-11-25T12:00:00Z", |_, _, _, _| async {}).await;
    let sent = common::prayer(
        &bot.fake,
        "stats",
        vec![CommandOption::boolean("chart", true)],
        bot.world.as_member(),
    );
    let callback = bot
        .fake
        .wait_for_callback(&sent, common::WAIT)
        .await
        .expect("the bot answers");
    let body = callback.body.clone().unwrap_or_default();
    assert_eq!(
        body["data"]["embeds"][0]["image"]["url"], "attachment://coverage.png",
        "{body}"
    );
    assert_eq!(callback.files.len(), 1, "{body}");
    let file = &callback.files[0];
    assert_eq!(file.filename.as_deref(), Some("coverage.png"));
    assert_eq!(png_size(&file.data), CHART);
    // Without the option, no picture.
    let plain = common::prayer(&bot.fake, "stats", vec![], bot.world.as_member());
    let callback = bot
        .fake
        .wait_for_callback(&plain, common::WAIT)
        .await
        .expect("the bot answers");
    assert!(callback.files.is_empty());
    bot.fake.assert_no_spec_violations();
}

#[tokio::test]
async fn two_bot_processes_on_one_database_post_the_recap_once() {
    // Both come up after the recap's time: both find it due at once.
    let bot = start_at("2026-11-29T09:00:10Z", prayed_week).await;
    let log = bot.dir.path().join("second.log");
    let _second = common::spawn_bot(&bot.fake, &bot.db, "2026-11-29T09:00:10Z", &log);
    let general = bot.world.general.id;
    until("the recap is posted", || async {
        (recaps(&bot.fake, general) >= 1).then_some(())
    })
    .await;
    until("the second process connects", || async {
        (bot.fake.identify_count() >= 2).then_some(())
    })
    .await;
    // Both are up and answering; each has had its first look.
    let status = common::answer(
        &bot.fake,
        &common::prayer(&bot.fake, "status", vec![], bot.world.as_admin()),
    )
    .await;
    assert!(status.text.contains("Last post"), "{}", status.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(recaps(&bot.fake, general), 1, "posted once");
    assert_eq!(with_files(&bot.fake, general).len(), 1);
    bot.fake.assert_no_spec_violations();
}
