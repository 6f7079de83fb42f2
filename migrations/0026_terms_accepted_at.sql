-- When a person accepted the terms in the current terms cycle (LibreChat's `termsAcceptedAt`):
-- set at the first acceptance, kept by later ones, cleared when the admin resets the terms.
-- NULL for acceptances recorded before this column existed.
ALTER TABLE users ADD COLUMN terms_accepted_at TEXT;
