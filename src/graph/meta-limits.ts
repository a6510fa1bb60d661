/**
 * The Conversations API's limits the exporter is built around, in one place (src/graph/meta-api-facts.md has the
 * sources and their DOC/OBS/GUESS labels).
 */

/** Only the 20 most recent messages of a conversation can be read in detail (DOC: Meta's Conversations API page). */
export const DETAIL_WINDOW = 20;

/**
 * Incremental runs look again at conversations updated up to 5 minutes before the previous run's newest one, in case
 * Meta makes an update visible late (our margin, not Meta's number); unchanged ones cost no call.
 */
export const LISTING_OVERLAP_MS = 5 * 60_000;

/** The largest page the listing edges serve when asked with `limit` (GUESS: 100; a smaller page is followed as it comes). */
export const LARGEST_PAGE = 100;

/** Calls an account may make per second on the Conversations API (DOC: Meta's Conversations API page, "Limitations"). */
export const CALLS_PER_SECOND = 2;
