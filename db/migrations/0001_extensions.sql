-- Spatial types and indexes for camera locations, incident searches and borough boundaries.
CREATE EXTENSION IF NOT EXISTS postgis;
