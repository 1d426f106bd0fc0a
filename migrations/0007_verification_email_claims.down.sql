DROP TABLE verification_email_claims;
