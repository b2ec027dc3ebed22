-- The borough a point falls in (or NULL outside London): one definition for every statement that places a
-- camera. Boundaries are simplified, so on a border the lower GSS code wins.
CREATE FUNCTION borough_at(point geometry) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT gss_code FROM borough_boundaries WHERE ST_Covers(boundary, point) ORDER BY gss_code LIMIT 1);
