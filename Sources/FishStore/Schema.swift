import GRDB

/// The store's schema, as ordered migrations.
enum Schema {
    /// How many migrations this program knows: the store's `user_version` once migrated.
    static var migrationCount: Int { migrator.migrations.count }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: tracking and registry") { db in
            try db.create(table: "experiments") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "runs") { t in
                t.primaryKey("id", .text)
                t.belongsTo("experiment", inTable: "experiments").notNull()
                t.column("name", .text).notNull()
                t.column("status", .text).notNull().check(sql: "status IN ('RUNNING','FINISHED','FAILED','KILLED')")
                t.column("startTime", .datetime).notNull().indexed()
                t.column("endTime", .datetime)
                t.column("user", .text).notNull()
                t.column("host", .text).notNull()
                t.column("datasetFingerprint", .text)
                t.belongsTo("parentRun", inTable: "runs")
            }
            try db.create(table: "params") { t in
                t.belongsTo("run", inTable: "runs").notNull()
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["runId", "key"])
            }
            try db.create(table: "tags") { t in
                t.belongsTo("run", inTable: "runs").notNull()
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["runId", "key"])
            }
            try db.create(table: "metric_keys") { t in
                t.primaryKey("key", .text)
                t.column("direction", .text).notNull().check(sql: "direction IN ('min','max')")
            }
            try db.create(table: "metrics") { t in
                t.column("runId", .text).notNull().references("runs")
                t.column("key", .text).notNull()
                t.column("value", .double).notNull()
                t.column("step", .integer).notNull()
                t.column("timestamp", .datetime).notNull()
            }
            try db.create(index: "metrics_by_run_key_step", on: "metrics", columns: ["runId", "key", "step"])
            try db.create(table: "metric_summaries") { t in
                t.column("runId", .text).notNull().references("runs")
                t.column("key", .text).notNull()
                t.column("direction", .text).notNull()
                t.column("bestValue", .double).notNull()
                t.column("bestStep", .integer).notNull()
                t.column("lastValue", .double).notNull()
                t.column("lastStep", .integer).notNull()
                t.column("count", .integer).notNull()
                t.primaryKey(["runId", "key"])
            }
            try db.create(table: "artifacts") { t in
                t.column("runId", .text).notNull().references("runs")
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("size", .integer).notNull()
                t.primaryKey(["runId", "path"])
            }
            try db.create(table: "registered_models") { t in
                t.primaryKey("name", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("createdBy", .text).notNull()
            }
            try db.create(table: "model_versions") { t in
                t.column("model", .text).notNull().references("registered_models")
                t.column("version", .integer).notNull()
                t.column("packageSha256", .text).notNull()
                t.column("packagePath", .text).notNull()
                t.column("sourceRunId", .text).references("runs")
                t.column("createdBy", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.primaryKey(["model", "version"])
            }
            try db.create(table: "version_evaluations") { t in
                t.column("model", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("evaluationData", .text).notNull()
                t.column("metrics", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
                t.foreignKey(["model", "version"], references: "model_versions")
            }
            try db.create(index: "evaluations_by_version", on: "version_evaluations", columns: ["model", "version"])
            try db.create(table: "aliases") { t in
                t.column("model", .text).notNull()
                t.column("alias", .text).notNull()
                t.column("version", .integer).notNull()
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["model", "alias"])
                t.foreignKey(["model", "version"], references: "model_versions")
            }
            try db.create(table: "audit_log") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull()
                t.column("actor", .text).notNull()
                t.column("host", .text).notNull()
                t.column("model", .text).notNull().indexed()
                t.column("action", .text).notNull()
                t.column("alias", .text)
                t.column("fromVersion", .integer)
                t.column("toVersion", .integer)
                t.column("outcome", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("detail", .text).notNull()
            }
            // Versions and the audit log are immutable: the database itself refuses changes.
            for (table, operation) in [
                ("model_versions", "UPDATE"), ("model_versions", "DELETE"),
                ("audit_log", "UPDATE"), ("audit_log", "DELETE"),
            ] {
                try db.execute(
                    sql: """
                        CREATE TRIGGER \(table)_no_\(operation.lowercased()) BEFORE \(operation) ON \(table)
                        BEGIN SELECT RAISE(ABORT, '\(table) is append-only'); END
                        """)
            }
        }
        migrator.registerMigration("v2: pipelines and schedules") { db in
            try db.create(table: "pipelines") { t in
                t.primaryKey("runId", .text).references("runs")
                t.column("kind", .text).notNull()
                t.column("spec", .text).notNull()
                t.column("backend", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "pipeline_stages") { t in
                t.column("runId", .text).notNull().references("pipelines")
                t.column("stage", .text).notNull()
                t.column("position", .integer).notNull()
                t.column("state", .text).notNull()
                t.column("startedAt", .datetime)
                t.column("endedAt", .datetime)
                t.column("detail", .text).notNull().defaults(to: "")
                t.primaryKey(["runId", "stage"])
            }
            try db.create(table: "pipeline_tasks") { t in
                t.column("runId", .text).notNull().references("pipelines")
                t.column("taskId", .text).notNull()
                t.column("stage", .text).notNull()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull()
                t.column("worker", .text)
                t.column("reason", .text)
                t.column("done", .integer)
                t.column("total", .integer)
                t.column("cpuPercent", .double)
                t.column("rssBytes", .integer)
                t.column("heartbeatAt", .datetime)
                t.column("updatedAt", .datetime).notNull()
                t.primaryKey(["runId", "taskId"])
            }
            try db.create(table: "schedules") { t in
                t.primaryKey("name", .text)
                t.column("cron", .text).notNull()
                t.column("arguments", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("createdBy", .text).notNull()
            }
            // One row per due time: the primary key is what makes a run start at most once.
            try db.create(table: "schedule_runs") { t in
                t.column("schedule", .text).notNull().references("schedules", onDelete: .cascade)
                t.column("dueAt", .datetime).notNull()
                t.column("outcome", .text).notNull()
                t.column("agent", .text).notNull()
                t.column("recordedAt", .datetime).notNull()
                t.column("detail", .text).notNull().defaults(to: "")
                t.primaryKey(["schedule", "dueAt"])
            }
        }
        migrator.registerMigration("v3: servers") { db in
            // Running `fishops serve` processes: written when one starts, beaten every few
            // seconds, removed when it stops.
            try db.create(table: "servers") { t in
                t.primaryKey("url", .text)
                t.column("host", .text).notNull()
                t.column("pid", .integer).notNull()
                t.column("model", .text).notNull()
                t.column("alias", .text).notNull()
                t.column("version", .integer)
                t.column("startedAt", .datetime).notNull()
                t.column("heartbeatAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("v4: mirror outbox") { db in
            // What the store recorded, in order, until a tracking server (MLflow) has it: written in
            // the transaction of the record it mirrors, removed once sent.
            try db.create(table: "mirror_outbox") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("event", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                // Why the server refused this entry for good (it is then skipped, kept for `mlflow status`).
                t.column("rejected", .text)
            }
            // What the server calls our records: run ids, experiment ids, version numbers.
            try db.create(table: "mirror_ids") { t in
                t.column("kind", .text).notNull()
                t.column("local", .text).notNull()
                t.column("remote", .text).notNull()
                t.primaryKey(["kind", "local"])
            }
            try db.create(table: "mirror_state") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v5: hooks") { db in
            try db.create(table: "hooks") { t in
                t.primaryKey("name", .text)
                t.column("definition", .text).notNull()  // the Hook, as JSON
            }
            // Events waiting for a hook, written in the transaction of what raised them.
            try db.create(table: "hook_queue") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("hook", .text).notNull().references("hooks", onDelete: .cascade)
                t.column("event", .text).notNull()
                t.column("payload", .text).notNull()
                t.column("raisedAt", .datetime).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("nextAttemptAt", .datetime).notNull().indexed()
            }
            // Every attempt, newest kept (see Store.hookDeliveryLogLimit).
            try db.create(table: "hook_deliveries") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("hook", .text).notNull()
                t.column("event", .text).notNull()
                t.column("eventId", .integer).notNull()
                t.column("attempt", .integer).notNull()
                t.column("at", .datetime).notNull()
                t.column("outcome", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        return migrator
    }
}
