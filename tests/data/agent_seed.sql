-- tests/data/agent_seed.sql - the agent database the database tests query.
--
-- Portable SQL: the same file seeds a SQLite 3.40 file (python's
-- sqlite3.executescript) and a PostgreSQL 15 database (psql), see
-- tests/http/pgcluster.py.  Everything is written out, so every run sees
-- the same rows.  Timestamps are text literals (PostgreSQL casts them, SQLite
-- keeps the text); booleans are TRUE/FALSE (SQLite stores 1/0).

CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT,
  plan TEXT,
  created_at TIMESTAMP,
  active BOOLEAN
);

INSERT INTO users (id, name, email, plan, created_at, active) VALUES
  (1, 'Alice Martin', 'alice@example.com', 'pro', '2024-01-03 09:12:00', TRUE),
  (2, 'Bob Nguyen', 'bob@example.com', 'free', '2024-01-05 14:30:00', TRUE),
  (3, 'Chloé Dubois', 'chloe@example.fr', 'team', '2024-01-09 08:05:00', TRUE),
  (4, 'Dmitri Volkov', 'dmitri@example.org', 'free', '2024-01-15 19:45:00', FALSE),
  (5, 'Emma Schulz', 'emma@example.de', 'pro', '2024-02-01 11:00:00', TRUE),
  (6, 'Farid Haddad', NULL, 'free', '2024-02-10 16:20:00', TRUE),
  (7, 'Grace Okafor', 'grace@example.com', 'enterprise', '2024-02-14 10:10:00', TRUE),
  (8, 'Hiro Tanaka', 'hiro@example.jp', NULL, '2024-03-01 07:55:00', FALSE),
  (9, 'Inès Moreau', 'ines@example.fr', 'team', '2024-03-12 13:40:00', TRUE);

CREATE TABLE user_activities (
  id INTEGER PRIMARY KEY,
  user_id INTEGER REFERENCES users(id),
  action TEXT,
  duration_seconds REAL,
  created_at TIMESTAMP
);

INSERT INTO user_activities (id, user_id, action, duration_seconds, created_at) VALUES
  (1, 2, 'run_query', 252.4, '2024-04-08 14:37:58'),
  (2, 4, 'run_query', 191.0, '2024-05-15 19:34:24'),
  (3, 2, 'export_csv', 585.1, '2024-03-22 15:52:54'),
  (4, 9, 'export_csv', 30.8, '2024-04-01 14:08:57'),
  (5, 9, 'export_csv', 352.4, '2024-05-08 08:56:56'),
  (6, 6, 'export_csv', 28.1, '2024-03-15 12:29:03'),
  (7, 8, 'export_csv', 184.0, '2024-04-22 08:17:08'),
  (8, 4, 'logout', 509.3, '2024-05-01 16:25:03'),
  (9, 7, 'logout', 582.7, '2024-03-08 10:40:18'),
  (10, 2, 'export_csv', 188.5, '2024-04-15 06:04:13'),
  (11, 4, 'run_query', 363.7, '2024-05-22 21:43:34'),
  (12, 4, 'export_csv', 56.2, '2024-03-01 19:59:51'),
  (13, 4, 'upload', 403.1, '2024-04-08 14:42:48'),
  (14, 7, 'share', 253.0, '2024-05-15 18:11:09'),
  (15, 2, 'export_csv', 420.1, '2024-03-22 18:26:16'),
  (16, 6, 'share', 127.3, '2024-04-01 18:33:16'),
  (17, 3, 'logout', NULL, '2024-05-08 10:53:39'),
  (18, 8, 'upload', 194.3, '2024-03-15 08:23:25'),
  (19, 9, 'share', 533.4, '2024-04-22 12:03:54'),
  (20, 7, 'export_csv', 202.7, '2024-05-01 15:29:40'),
  (21, 2, 'share', 8.5, '2024-03-08 07:17:31'),
  (22, 3, 'login', 55.5, '2024-04-15 22:29:52'),
  (23, 9, 'logout', 585.6, '2024-05-22 12:40:43'),
  (24, 8, 'export_csv', 596.2, '2024-03-01 17:23:34'),
  (25, 3, 'view_report', 382.3, '2024-04-08 06:36:31'),
  (26, 2, 'upload', 282.8, '2024-05-15 17:34:47'),
  (27, 1, 'export_csv', 192.5, '2024-03-22 22:12:30'),
  (28, 2, 'login', 138.1, '2024-04-01 10:25:42'),
  (29, 5, 'upload', 197.3, '2024-05-08 09:36:34'),
  (30, 6, 'logout', 577.0, '2024-03-15 16:03:52'),
  (31, 3, 'run_query', 103.6, '2024-04-22 09:02:44'),
  (32, 9, 'view_report', 57.4, '2024-05-01 09:11:24'),
  (33, 9, 'export_csv', 351.0, '2024-03-08 22:57:19'),
  (34, 4, 'export_csv', 565.3, '2024-04-15 11:20:57'),
  (35, 1, 'share', 100.6, '2024-05-22 19:11:58'),
  (36, 7, 'view_report', 158.8, '2024-03-01 15:25:39'),
  (37, 2, 'upload', 171.0, '2024-04-08 17:49:28'),
  (38, 6, 'upload', 248.9, '2024-05-15 15:37:43'),
  (39, 4, 'run_query', 268.5, '2024-03-22 14:53:29'),
  (40, 6, 'upload', 192.2, '2024-04-01 08:09:19'),
  (41, 4, 'view_report', 428.6, '2024-05-08 13:34:57'),
  (42, 2, 'export_csv', NULL, '2024-03-15 19:14:46'),
  (43, 1, 'share', 264.1, '2024-04-22 18:58:14'),
  (44, 8, 'upload', 423.7, '2024-05-01 18:01:47'),
  (45, 1, 'logout', 282.6, '2024-03-08 15:43:54'),
  (46, 5, 'view_report', 549.5, '2024-04-15 15:05:51'),
  (47, 8, 'export_csv', 306.0, '2024-05-22 11:03:55'),
  (48, 5, 'share', 461.1, '2024-03-01 16:35:49'),
  (49, 2, 'view_report', 13.2, '2024-04-08 13:38:03'),
  (50, 6, 'run_query', 336.8, '2024-05-15 06:07:49'),
  (51, 8, 'upload', 78.8, '2024-03-22 21:53:46'),
  (52, 9, 'upload', 484.7, '2024-04-01 21:07:20'),
  (53, 9, 'login', 351.6, '2024-05-08 21:40:41'),
  (54, 3, 'logout', 562.0, '2024-03-15 15:01:26'),
  (55, 4, 'view_report', 144.6, '2024-04-22 22:24:20'),
  (56, 9, 'view_report', 509.4, '2024-05-01 22:51:37'),
  (57, 8, 'export_csv', 181.3, '2024-03-08 21:50:29'),
  (58, 5, 'export_csv', 364.0, '2024-04-15 11:01:27'),
  (59, 1, 'export_csv', 516.1, '2024-05-22 22:34:19'),
  (60, 7, 'share', 231.2, '2024-03-01 21:40:49');

CREATE TABLE documents (
  id INTEGER PRIMARY KEY,
  title TEXT,
  content TEXT,
  category TEXT,
  keywords TEXT,
  created_at TIMESTAMP
);

INSERT INTO documents (id, title, content, category, keywords, created_at) VALUES
  (1, 'Getting started with reports',
   'Reports summarise the activity of your team over a chosen period. Pick a date range, choose the metrics you care about and press Generate. Reports can be exported as CSV or shared with a link that expires after seven days.',
   'guide', 'reports,export,csv,sharing', '2024-01-10 10:00:00'),
  (2, 'Understanding plans and billing',
   'Every account starts on the free plan, which allows three projects and one hundred queries a day. The pro plan removes the query limit, and the team plan adds shared workspaces. Invoices are sent on the first day of each month.',
   'billing', 'plans,billing,invoice,pricing', '2024-01-18 15:30:00'),
  (3, 'Uploading data safely',
   'Files up to fifty megabytes can be uploaded from the browser. We check every file for a valid header before it is stored, and files that fail the check are rejected with an explanation. Personal data should be removed before upload.',
   'guide', 'upload,privacy,files', '2024-02-02 09:45:00'),
  (4, 'Query performance tips',
   'Slow queries usually scan more rows than they need. Filter early, select only the columns you use, and prefer joins on indexed keys. A query that runs longer than five seconds is stopped automatically.',
   'engineering', 'performance,sql,indexes,timeout', '2024-02-20 14:00:00'),
  (5, 'Incident report: delayed exports',
   'On the twelfth of March exports were delayed by up to forty minutes because a queue worker ran out of memory. The worker was restarted, its memory limit was raised, and an alert now fires when the queue grows past one thousand jobs.',
   'incident', 'exports,outage,queue,memory', '2024-03-13 08:20:00'),
  (6, 'Sharing dashboards with clients',
   'A dashboard can be shared with people outside your organisation through a read-only link. Viewers cannot change filters that you have locked, and you can revoke a link at any time from the sharing panel.',
   'guide', 'dashboards,sharing,permissions', '2024-03-21 11:15:00'),
  (7, 'Data retention policy',
   'Raw activity events are kept for thirteen months and then aggregated into daily totals. Deleted projects are recoverable for thirty days. After that their data is erased from every backup within ninety days.',
   'policy', 'retention,privacy,backups', '2024-04-02 16:45:00'),
  (8, 'Release notes for version 2.4',
   'Version 2.4 adds scheduled reports, a dark theme and faster CSV exports. The query editor now highlights syntax errors as you type, and the API accepts named parameters in saved queries.',
   'release', 'release,reports,editor,api', '2024-04-15 12:00:00');

CREATE TABLE pipeline_input (
  id INTEGER PRIMARY KEY,
  source TEXT,
  payload TEXT,
  status TEXT,
  error TEXT,
  processed_at TIMESTAMP
);

-- payload is JSON text; rows 5, 11, 16 and 19 hold malformed JSON and failed.
INSERT INTO pipeline_input (id, source, payload, status, error, processed_at) VALUES
  (1, 'webhook', '{"event": "signup", "user_id": 1, "plan": "pro"}', 'processed', NULL, '2024-04-01 10:00:05'),
  (2, 'webhook', '{"event": "login", "user_id": 2}', 'processed', NULL, '2024-04-01 10:02:11'),
  (3, 'batch', '{"event": "export", "user_id": 3, "rows": 1200}', 'processed', NULL, '2024-04-01 11:15:00'),
  (4, 'api', '{"event": "upload", "user_id": 5, "size_mb": 12.5}', 'processed', NULL, '2024-04-01 12:30:42'),
  (5, 'webhook', '{"event": "signup", "user_id": 6', 'failed', 'unexpected end of JSON input', '2024-04-01 13:01:00'),
  (6, 'batch', '{"event": "login", "user_id": 7}', 'processed', NULL, '2024-04-02 08:00:00'),
  (7, 'api', '{"event": "share", "user_id": 1, "target": "dashboard"}', 'processed', NULL, '2024-04-02 09:10:10'),
  (8, 'webhook', '{"event": "logout", "user_id": 2}', 'processed', NULL, '2024-04-02 09:45:00'),
  (9, 'api', '{"event": "run_query", "user_id": 9, "ms": 850}', 'pending', NULL, NULL),
  (10, 'batch', '{"event": "export", "user_id": 5, "rows": 40}', 'processed', NULL, '2024-04-02 14:20:00'),
  (11, 'webhook', '{event: "login", user_id: 4}', 'failed', 'property names must be double-quoted', '2024-04-02 15:00:00'),
  (12, 'api', '{"event": "upload", "user_id": 3, "size_mb": 48.0}', 'processed', NULL, '2024-04-03 07:30:00'),
  (13, 'webhook', '{"event": "signup", "user_id": 8, "plan": null}', 'processed', NULL, '2024-04-03 08:05:55'),
  (14, 'batch', '{"event": "login", "user_id": 1}', 'pending', NULL, NULL),
  (15, 'api', '{"event": "run_query", "user_id": 7, "ms": 12}', 'processed', NULL, '2024-04-03 10:10:00'),
  (16, 'batch', 'not json at all', 'failed', 'expected a JSON value', '2024-04-03 11:00:00'),
  (17, 'webhook', '{"event": "share", "user_id": 9, "target": "report"}', 'processed', NULL, '2024-04-03 12:12:12'),
  (18, 'api', '{"event": "export", "user_id": 2, "rows": 0}', 'processed', NULL, '2024-04-03 13:45:00'),
  (19, 'webhook', '{"event": "login", "user_id": 3,}', 'failed', 'trailing comma', '2024-04-03 14:00:00'),
  (20, 'api', '[]', 'pending', NULL, NULL);

-- Values the tests use to check how each type comes back.
CREATE TABLE type_samples (
  id INTEGER PRIMARY KEY,
  big_int BIGINT,
  neg_float DOUBLE PRECISION,
  label TEXT,
  empty_text TEXT,
  missing TEXT,
  flag BOOLEAN
);

INSERT INTO type_samples (id, big_int, neg_float, label, empty_text, missing, flag) VALUES
  (1, 9007199254740993, -273.15, 'naïve — ünïcode', '', NULL, TRUE),
  (2, -9007199254740993, 0.1, 'plain', '', NULL, FALSE);
