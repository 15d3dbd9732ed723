-- Memberships and packages (issue 14 §3): each plan a client holds, as the platform (or the events
-- API's `client.membership`) last reported it. `benefits` is what the plan gives per treatment
-- type: [{ "treatmentType": "botox" | null (every treatment), "percentOff"?: n, "creditsLeft"?: n }].
-- Offers read it at send time (src/db/offer-facts.ts): credits left → "use your credit", a member
-- price → no stacked discount.
CREATE TABLE client_plans (
  clinic_id text NOT NULL,
  client_external_id text NOT NULL,
  plan_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('membership', 'package')),
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'paused', 'cancelled', 'expired')),
  renews_at timestamptz,
  ends_at timestamptz,
  benefits jsonb NOT NULL DEFAULT '[]',
  source_updated_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (clinic_id, client_external_id, plan_id)
);
-- Why the client got the offer they got (core/offers.ts `OfferDecision.reason`: package_credit,
-- member_discount, loyalty_tier, price_tier, unknown_price): a code, never client data.
ALTER TABLE messages ADD COLUMN offer_reason text;
ALTER TABLE incentives ADD COLUMN reason text;
