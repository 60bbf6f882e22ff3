//! Meters: quota meters (a budgeted counter with a reset rule) and sensors.

use super::{Db, StoreResult, with_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeterRow {
    pub id: i64,
    pub owner_id: i64,
    pub kind: String,
    pub name: String,
    pub unit: String,
    pub timezone: String,
    pub quota: Option<f64>,
    pub reset_rule: Option<String>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
    pub position: i64,
    pub created_at: i64,
    pub archived_at: Option<i64>,
}

/// A meter to create; validation happens in `domain` before it gets here.
#[derive(Debug, Clone)]
pub struct NewMeter<'a> {
    pub owner_id: i64,
    pub kind: &'a str,
    pub name: &'a str,
    pub unit: &'a str,
    pub timezone: &'a str,
    pub quota: Option<f64>,
    pub reset_rule: Option<&'a str>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
    pub position: i64,
    pub created_at: i64,
}

impl Db {
    pub async fn create_meter(&self, m: &NewMeter<'_>) -> StoreResult<i64> {
        let sql = "INSERT INTO meters (owner_id, kind, name, unit, timezone, quota, reset_rule, \
                   range_min, range_max, position, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql)
            .bind(m.owner_id)
            .bind(m.kind)
            .bind(m.name)
            .bind(m.unit)
            .bind(m.timezone)
            .bind(m.quota)
            .bind(m.reset_rule)
            .bind(m.range_min)
            .bind(m.range_max)
            .bind(m.position)
            .bind(m.created_at)
            .fetch_one(pool)
            .await?))
    }

    /// The owner's meters that are not archived, in display order.
    pub async fn active_meters(&self, owner_id: i64) -> StoreResult<Vec<MeterRow>> {
        let sql = "SELECT id, owner_id, kind, name, unit, timezone, quota, reset_rule, range_min, \
                   range_max, position, created_at, archived_at FROM meters \
                   WHERE owner_id = $1 AND archived_at IS NULL ORDER BY position, id";
        Ok(with_pool!(self, pool => sqlx::query_as::<_, MeterRow>(sql)
            .bind(owner_id)
            .fetch_all(pool)
            .await?))
    }
}

impl Db {
    /// The meters with these ids (any owner, archived or not), by id: one query.
    pub async fn meters_by_ids(
        &self,
        ids: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, MeterRow>> {
        let mut out = std::collections::HashMap::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let rows: Vec<MeterRow> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT id, owner_id, kind, name, unit, timezone, quota, reset_rule, range_min, \
                     range_max, position, created_at, archived_at FROM meters WHERE id IN (",
                );
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_as::<MeterRow>().fetch_all(pool).await?
            });
            out.extend(rows.into_iter().map(|m| (m.id, m)));
        }
        Ok(out)
    }

    pub async fn meter(&self, id: i64) -> StoreResult<Option<MeterRow>> {
        let sql = "SELECT id, owner_id, kind, name, unit, timezone, quota, reset_rule, range_min, \
                   range_max, position, created_at, archived_at FROM meters WHERE id = $1";
        Ok(with_pool!(self, pool => sqlx::query_as::<_, MeterRow>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }
}

/// The fields of a meter that can change after it is created.
#[derive(Debug, Clone)]
pub struct MeterUpdate<'a> {
    pub name: &'a str,
    pub unit: &'a str,
    pub timezone: &'a str,
    pub quota: Option<f64>,
    pub reset_rule: Option<&'a str>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
}

impl Db {
    pub async fn update_meter(&self, id: i64, m: &MeterUpdate<'_>) -> StoreResult<()> {
        let sql = "UPDATE meters SET name = $1, unit = $2, timezone = $3, quota = $4, \
                   reset_rule = $5, range_min = $6, range_max = $7 WHERE id = $8";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(m.name)
                .bind(m.unit)
                .bind(m.timezone)
                .bind(m.quota)
                .bind(m.reset_rule)
                .bind(m.range_min)
                .bind(m.range_max)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Archives a meter: it leaves the outlook and refuses new readings; its history stays.
    pub async fn archive_meter(&self, id: i64, now: i64) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE meters SET archived_at = $1 WHERE id = $2 AND archived_at IS NULL")
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// All of a user's meters, archived ones last.
    pub async fn meters_of(&self, owner_id: i64) -> StoreResult<Vec<MeterRow>> {
        let sql = "SELECT id, owner_id, kind, name, unit, timezone, quota, reset_rule, range_min, \
                   range_max, position, created_at, archived_at FROM meters WHERE owner_id = $1 \
                   ORDER BY archived_at IS NOT NULL, position, id";
        Ok(with_pool!(self, pool => sqlx::query_as::<_, MeterRow>(sql)
            .bind(owner_id)
            .fetch_all(pool)
            .await?))
    }

    /// The display position after the owner's last meter.
    pub async fn next_meter_position(&self, owner_id: i64) -> StoreResult<i64> {
        let max: Option<i64> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT MAX(position) FROM meters WHERE owner_id = $1")
            .bind(owner_id)
            .fetch_one(pool)
            .await?);
        Ok(max.map_or(0, |m| m + 1))
    }
}
