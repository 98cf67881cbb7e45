// The most events a subscribe looks back for: the server caps a backfill
// here, and \`sluice tail\` checks --limit against it (without loading the
// server's modules).
export const MAX_BACKFILL = 1000;
