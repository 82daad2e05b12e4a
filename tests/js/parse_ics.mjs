// Parse an .ics from stdin with Mozilla's ical.js (v2, an ES module); print its events as JSON.
//
//   NODE_PATH=<prefix>/node_modules node parse_ics.mjs < booking.ics
//
// ES modules ignore NODE_PATH, so the package's ES entry point is looked up there by hand.
// A parse error exits non-zero with ical.js's message on stderr.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";

async function importFromNodePath(name) {
  for (const dir of (process.env.NODE_PATH ?? "").split(delimiter).filter(Boolean)) {
    const manifest = join(dir, name, "package.json");
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, "utf8"));
      const entry = pkg.exports?.import ?? pkg.exports?.["."]?.import ?? pkg.module ?? pkg.main;
      const module = await import(pathToFileURL(join(dir, name, entry)).href);
      return { module, version: pkg.version };
    }
  }
  throw new Error(`${name} not found on NODE_PATH=${process.env.NODE_PATH ?? ""}`);
}

const icaljs = await importFromNodePath("ical.js");
const ICAL = icaljs.module.default;

const utcIso = (time) => (time ? time.toJSDate().toISOString() : null);

const calendar = new ICAL.Component(ICAL.parse(readFileSync(0, "utf8")));
const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
  const start = vevent.getFirstPropertyValue("dtstart");
  const organizer = vevent.getFirstProperty("organizer");
  return {
    uid: vevent.getFirstPropertyValue("uid"),
    summary: vevent.getFirstPropertyValue("summary"),
    location: vevent.getFirstPropertyValue("location"),
    description: vevent.getFirstPropertyValue("description"),
    start: utcIso(start),
    start_is_utc: start?.zone === ICAL.Timezone.utcTimezone,
    end: utcIso(vevent.getFirstPropertyValue("dtend")),
    stamp: utcIso(vevent.getFirstPropertyValue("dtstamp")),
    organizer_cn: organizer ? organizer.getParameter("cn") : null,
    sequence: vevent.getFirstPropertyValue("sequence"),
    url: vevent.getFirstPropertyValue("url"),
    status: vevent.getFirstPropertyValue("status"),
    transp: vevent.getFirstPropertyValue("transp"),
  };
});

process.stdout.write(
  JSON.stringify({
    icaljs_version: icaljs.version,
    version: calendar.getFirstPropertyValue("version"),
    prodid: calendar.getFirstPropertyValue("prodid"),
    method: calendar.getFirstPropertyValue("method"),
    calname: calendar.getFirstPropertyValue("x-wr-calname"),
    events,
  }),
);
