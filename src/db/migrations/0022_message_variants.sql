-- Stage variants (issue 13 §2): the variant of the stage a ledger row was sent as (wording,
-- channel, send time or offer), chosen at delivery from a keyed hash of clinic, client and stage.
-- NULL: the stage had no variants. The variant report groups sends and bookings by it.
ALTER TABLE messages ADD COLUMN variant text;
