-- Every SQL statement of the statistics release (ticketing/statistics/release.py). Values always go
-- in as $n parameters. The aggregates run in PostgreSQL: a day of a million validations leaves it
-- as a few thousand grouped rows. The medium serial is read here (trip chaining, contribution
-- bounds) and never leaves these statements: only counts do.

-- name: validation_counts
-- Validations of [$1, $2) placed on a network, grouped once per family (grouping sets); the hour is
-- local to the zone $3. $4: at most this many validations per medium (the contribution bound of
-- differential privacy; NULL: all). The rank orders a medium's validations by time; a validation
-- whose serial was removed and whose contract is unknown is its own contributor.
-- family: the grouping set, as GROUPING(route_id, hour, stop_id, product_kind, rider_category,
-- medium_kind, reason) gives it (a bit is 1 where the column is not grouped).
WITH v AS (
    SELECT v.network_id, v.accepted, v.route_id, v.stop_id, v.reason,
           to_char(v.occurred_at AT TIME ZONE $3, 'HH24') AS hour,
           CASE WHEN c.contract_id IS NULL THEN 'unknown'
                WHEN c.duration_s IS NOT NULL THEN 'pass'
                WHEN c.trips_total > 1 THEN 'carnet'
                ELSE 'single' END AS product_kind,
           CASE WHEN c.contract_id IS NULL THEN 'unknown'
                ELSE coalesce(c.rider_category_id, 'default') END AS rider_category,
           coalesce(mc.kind, ms.kind, 'unknown') AS medium_kind,
           CASE WHEN $4::integer IS NULL THEN 1
                ELSE row_number() OVER (
                    PARTITION BY coalesce(v.medium_serial, mc.serial, v.device_key_id || ' ' || v.event_id)
                    ORDER BY v.occurred_at, v.device_key_id, v.event_id) END AS rank
    FROM ticketing_validations v
    LEFT JOIN ticketing_contracts c ON c.contract_id = v.contract_id
    LEFT JOIN ticketing_media mc ON mc.medium_id = c.medium_id
    LEFT JOIN ticketing_media ms ON ms.serial = v.medium_serial AND v.contract_id IS NULL
    WHERE v.occurred_at >= $1 AND v.occurred_at < $2 AND v.network_id IS NOT NULL
)
SELECT CASE GROUPING(route_id, hour, stop_id, product_kind, rider_category, medium_kind, reason)
           WHEN 31 THEN 'route_hour'   -- 0011111
           WHEN 111 THEN 'stop'        -- 1101111
           WHEN 115 THEN 'product'     -- 1110011
           WHEN 117 THEN 'medium'      -- 1110101
           WHEN 126 THEN 'refusals'    -- 1111110
       END AS family,
       network_id, accepted,
       CASE GROUPING(route_id, hour, stop_id, product_kind, rider_category, medium_kind, reason)
           WHEN 31 THEN route_id WHEN 111 THEN stop_id WHEN 115 THEN product_kind WHEN 117 THEN medium_kind
           ELSE reason END AS row_key,
       CASE GROUPING(route_id, hour, stop_id, product_kind, rider_category, medium_kind, reason)
           WHEN 31 THEN hour WHEN 115 THEN rider_category WHEN 117 THEN product_kind ELSE '' END AS col_key,
       count(*)::bigint AS count
FROM v
WHERE rank <= coalesce($4::integer, 1)
GROUP BY GROUPING SETS (
    (network_id, accepted, route_id, hour),
    (network_id, accepted, stop_id),
    (network_id, accepted, product_kind, rider_category),
    (network_id, accepted, medium_kind, product_kind),
    (network_id, accepted, reason)
);

-- name: unplaced_validations
-- Validations of [$1, $2) that name no network: not released (no scope), counted in the parameters.
SELECT count(*)::bigint FROM ticketing_validations
WHERE occurred_at >= $1 AND occurred_at < $2 AND network_id IS NULL;

-- name: od_pairs
-- Origin-destination pairs of [$1, $2): a medium's accepted boardings (its serial, or the serial of
-- its contract's medium) ordered by time b1..bn, n >= 2, give (b_i, b_i+1) and (b_n, b_1): the
-- last trip returns to the first boarding stop (the smartcard trip-chaining assumption). The
-- scope is the network of the origin boarding. $3: at most this many boardings per medium (the
-- contribution bound of differential privacy; NULL: all), so at most $3 pairs.
WITH b AS (
    SELECT v.network_id, v.stop_id, coalesce(v.medium_serial, m.serial) AS medium,
           row_number() OVER (PARTITION BY coalesce(v.medium_serial, m.serial)
                              ORDER BY v.occurred_at, v.device_key_id, v.event_id) AS i
    FROM ticketing_validations v
    LEFT JOIN ticketing_contracts c ON c.contract_id = v.contract_id
    LEFT JOIN ticketing_media m ON m.medium_id = c.medium_id
    WHERE v.occurred_at >= $1 AND v.occurred_at < $2 AND v.accepted AND v.network_id IS NOT NULL
      AND coalesce(v.medium_serial, m.serial) IS NOT NULL
), chained AS (
    SELECT network_id, stop_id AS origin,
           coalesce(lead(stop_id) OVER w, first_value(stop_id) OVER w) AS destination,
           count(*) OVER (PARTITION BY medium) AS n
    FROM b
    WHERE i <= coalesce($3::integer, i)
    WINDOW w AS (PARTITION BY medium ORDER BY i)
)
SELECT network_id, origin, destination, count(*)::bigint AS count
FROM chained WHERE n >= 2
GROUP BY network_id, origin, destination;

-- name: sales_lines
-- Lines of orders paid (or refunded since) created in [$1, $2), grouped by what the sales families
-- need. The sales point is its key's label ('' -> 'unlabelled'), never the key id. $3 / $4: at
-- most this many items / this much money per order (contribution bounds of differential privacy;
-- NULL: all), taken in line order.
WITH l AS (
    SELECT o.selling_authority_id AS seller, o.channel,
           coalesce(nullif(k.label, ''), 'unlabelled') AS sales_point,
           ol.fare_product_id AS product, ol.network_ids, ol.owning_authority_ids,
           ol.quantity, ol.amount_minor,
           coalesce(sum(ol.quantity) OVER w, 0) AS items_before,
           coalesce(sum(ol.amount_minor) OVER w, 0) AS amount_before
    FROM ticketing_orders o
    JOIN ticketing_order_lines ol USING (order_id)
    LEFT JOIN api_keys k ON k.key_id = o.sales_point_key_id
    WHERE o.created_at >= $1 AND o.created_at < $2 AND o.status IN ('paid', 'partially_refunded', 'refunded')
    WINDOW w AS (PARTITION BY o.order_id ORDER BY ol.line_no ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
)
SELECT seller, channel, sales_point, product, network_ids, owning_authority_ids,
       sum(CASE WHEN $3::integer IS NULL THEN quantity
                ELSE greatest(0, least(quantity, $3 - items_before)) END)::bigint AS count,
       sum(CASE WHEN $4::bigint IS NULL THEN amount_minor
                ELSE greatest(0, least(amount_minor, $4 - amount_before)) END)::bigint AS amount_minor
FROM l
GROUP BY seller, channel, sales_point, product, network_ids, owning_authority_ids;

-- name: released_kinds
-- Which kinds of a period are released already.
SELECT kind FROM stat_releases WHERE period_kind = $1 AND period_start = $2;

-- name: claim_release
-- The release row of (kind, period), created once: nothing comes back when it exists (another
-- process, or an earlier run, released it); a concurrent claim waits for this transaction.
INSERT INTO stat_releases (kind, period_kind, period_start, method, parameters, created_at)
VALUES ($1, $2, $3, $4, '{}'::jsonb, $5)
ON CONFLICT (kind, period_kind, period_start) DO NOTHING
RETURNING release_id;

-- name: set_release_parameters
-- What the release did, once its cells are stored.
UPDATE stat_releases SET parameters = $2 WHERE release_id = $1;

-- name: spent_budget
-- Privacy budget already spent per authority on a period (the ledger), locked by the caller's
-- advisory lock on the period.
SELECT authority_id, sum(epsilon) AS epsilon, sum(delta) AS delta FROM stat_privacy_ledger
WHERE period_kind = $1 AND period_start = $2 GROUP BY authority_id;

-- name: combine_day_cells
-- A month's cells ($1: its release) from the released day cells of kind $2 in [$3, $4), in the
-- database (privacy.combine_days is the reference): each cell sums the days' released counts (and
-- amounts), parts_suppressed counts the day cells left out; all suppressed gives a suppressed cell.
-- Who reads a table is the union over its days. Returns the month's (tables, cells, suppressed).
WITH parts AS (
    SELECT c.family, c.scope, c.row_key, c.col_key, c.count, c.amount_minor, c.authority_ids, c.network_ids
    FROM stat_releases r JOIN stat_cells c USING (release_id)
    WHERE r.kind = $2 AND r.period_kind = 'day' AND r.period_start >= $3 AND r.period_start < $4
), readers AS (
    SELECT family, scope, authority_ids, network_ids FROM parts GROUP BY 1, 2, 3, 4
), meta AS (
    SELECT family, scope,
           ARRAY(SELECT DISTINCT a FROM readers x, unnest(x.authority_ids) a
                 WHERE x.family = t.family AND x.scope = t.scope ORDER BY a) AS authority_ids,
           ARRAY(SELECT DISTINCT n FROM readers x, unnest(x.network_ids) n
                 WHERE x.family = t.family AND x.scope = t.scope ORDER BY n) AS network_ids
    FROM (SELECT DISTINCT family, scope FROM readers) t
), inserted AS (
    INSERT INTO stat_cells (release_id, family, scope, row_key, col_key, count, amount_minor, parts_suppressed,
                            authority_ids, network_ids)
    SELECT $1, s.family, s.scope, s.row_key, s.col_key, s.count, s.amount_minor, s.hidden, m.authority_ids, m.network_ids
    FROM (SELECT family, scope, row_key, col_key, sum(count)::bigint AS count,
                 (sum(amount_minor) FILTER (WHERE count IS NOT NULL))::bigint AS amount_minor,
                 (count(*) FILTER (WHERE count IS NULL))::integer AS hidden
          FROM parts GROUP BY family, scope, row_key, col_key) s
    JOIN meta m USING (family, scope)
    RETURNING family, scope, count
)
SELECT count(DISTINCT (family, scope)) AS tables, count(*) AS cells, count(*) FILTER (WHERE count IS NULL) AS suppressed
FROM inserted;

-- name: day_releases
-- The day releases of a kind in [$2, $3): their method and parameters.
SELECT period_start, method, parameters FROM stat_releases
WHERE kind = $1 AND period_kind = 'day' AND period_start >= $2 AND period_start < $3
ORDER BY period_start;

-- name: validation_days
-- The service days (zone $2) of validations from $1 on.
SELECT DISTINCT ((occurred_at AT TIME ZONE $2) - interval '4 hours')::date AS day
FROM ticketing_validations WHERE occurred_at >= $1;

-- name: order_days
-- The service days (zone $2) of orders from $1 on.
SELECT DISTINCT ((created_at AT TIME ZONE $2) - interval '4 hours')::date AS day
FROM ticketing_orders WHERE created_at >= $1;

-- name: day_release_counts
-- Per service day from $1 on: how many kinds are released.
SELECT period_start, count(*)::int AS kinds FROM stat_releases
WHERE period_kind = 'day' AND period_start >= $1 GROUP BY period_start;

-- name: last_complete_day
-- The latest service day whose every kind is released.
SELECT max(period_start) FROM (
    SELECT period_start FROM stat_releases WHERE period_kind = 'day'
    GROUP BY period_start HAVING count(*) = 3
) d;

-- name: month_release_counts
-- Per month: how many kinds are released.
SELECT period_start, count(*)::int AS kinds FROM stat_releases
WHERE period_kind = 'month' GROUP BY period_start;

-- name: released_day_months
-- The months holding a released day.
SELECT DISTINCT date_trunc('month', period_start)::date AS month FROM stat_releases WHERE period_kind = 'day';
