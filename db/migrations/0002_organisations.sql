-- Organisations: every body that holds cameras, runs a control room or asks for footage. The reference
-- organisations below are installed here so that every database starts with them: the 33 London local
-- authorities, the three police forces of London, Transport for London and MOPAC.

CREATE TABLE organisations (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind          text NOT NULL CHECK (kind IN ('borough', 'police', 'transport', 'mopac', 'business', 'other')),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    gss_code      text UNIQUE CHECK (gss_code ~ '^E09[0-9]{6}$'),
    contact_email text CHECK (length(contact_email) <= 254),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1,
    CONSTRAINT organisations_name_key UNIQUE (name),
    CONSTRAINT organisations_borough_has_gss CHECK ((kind = 'borough') = (gss_code IS NOT NULL))
);

-- Pagination walks (name, id).
CREATE INDEX organisations_kind_name ON organisations (kind, name, id);

-- The 33 London local authority areas, each governed by one borough organisation.
CREATE TABLE boroughs (
    gss_code        text PRIMARY KEY CHECK (gss_code ~ '^E09[0-9]{6}$'),
    name            text NOT NULL UNIQUE,
    organisation_id uuid NOT NULL UNIQUE REFERENCES organisations (id)
);

-- Reference organisations get ids derived from a stable name, so every installation (and every example in
-- the documentation) uses the same ids for them.
CREATE FUNCTION sightline_reference_id(key text) RETURNS uuid
    LANGUAGE sql IMMUTABLE
    RETURN md5('sightline:organisation:' || key)::uuid;

WITH authorities (gss_code, area, authority) AS (VALUES
    ('E09000001', 'City of London', 'City of London Corporation'),
    ('E09000002', 'Barking and Dagenham', 'London Borough of Barking and Dagenham'),
    ('E09000003', 'Barnet', 'London Borough of Barnet'),
    ('E09000004', 'Bexley', 'London Borough of Bexley'),
    ('E09000005', 'Brent', 'London Borough of Brent'),
    ('E09000006', 'Bromley', 'London Borough of Bromley'),
    ('E09000007', 'Camden', 'London Borough of Camden'),
    ('E09000008', 'Croydon', 'London Borough of Croydon'),
    ('E09000009', 'Ealing', 'London Borough of Ealing'),
    ('E09000010', 'Enfield', 'London Borough of Enfield'),
    ('E09000011', 'Greenwich', 'Royal Borough of Greenwich'),
    ('E09000012', 'Hackney', 'London Borough of Hackney'),
    ('E09000013', 'Hammersmith and Fulham', 'London Borough of Hammersmith and Fulham'),
    ('E09000014', 'Haringey', 'London Borough of Haringey'),
    ('E09000015', 'Harrow', 'London Borough of Harrow'),
    ('E09000016', 'Havering', 'London Borough of Havering'),
    ('E09000017', 'Hillingdon', 'London Borough of Hillingdon'),
    ('E09000018', 'Hounslow', 'London Borough of Hounslow'),
    ('E09000019', 'Islington', 'London Borough of Islington'),
    ('E09000020', 'Kensington and Chelsea', 'Royal Borough of Kensington and Chelsea'),
    ('E09000021', 'Kingston upon Thames', 'Royal Borough of Kingston upon Thames'),
    ('E09000022', 'Lambeth', 'London Borough of Lambeth'),
    ('E09000023', 'Lewisham', 'London Borough of Lewisham'),
    ('E09000024', 'Merton', 'London Borough of Merton'),
    ('E09000025', 'Newham', 'London Borough of Newham'),
    ('E09000026', 'Redbridge', 'London Borough of Redbridge'),
    ('E09000027', 'Richmond upon Thames', 'London Borough of Richmond upon Thames'),
    ('E09000028', 'Southwark', 'London Borough of Southwark'),
    ('E09000029', 'Sutton', 'London Borough of Sutton'),
    ('E09000030', 'Tower Hamlets', 'London Borough of Tower Hamlets'),
    ('E09000031', 'Waltham Forest', 'London Borough of Waltham Forest'),
    ('E09000032', 'Wandsworth', 'London Borough of Wandsworth'),
    ('E09000033', 'Westminster', 'Westminster City Council')
), inserted AS (
    INSERT INTO organisations (id, kind, name, gss_code)
    SELECT sightline_reference_id(gss_code), 'borough', authority, gss_code FROM authorities
    RETURNING id, gss_code
)
INSERT INTO boroughs (gss_code, name, organisation_id)
SELECT a.gss_code, a.area, i.id FROM authorities a JOIN inserted i USING (gss_code);

INSERT INTO organisations (id, kind, name) VALUES
    (sightline_reference_id('MPS'), 'police', 'Metropolitan Police Service'),
    (sightline_reference_id('CoLP'), 'police', 'City of London Police'),
    (sightline_reference_id('BTP'), 'police', 'British Transport Police'),
    (sightline_reference_id('TfL'), 'transport', 'Transport for London'),
    (sightline_reference_id('MOPAC'), 'mopac', 'Mayor''s Office for Policing and Crime');
