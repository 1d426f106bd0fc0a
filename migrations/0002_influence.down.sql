DROP TABLE IF EXISTS response_upvotes;
DROP TABLE IF EXISTS campaign_responses;
DROP TABLE IF EXISTS campaign_emails;
DROP TABLE IF EXISTS representatives;
DROP TABLE IF EXISTS postal_codes;
DROP TABLE IF EXISTS campaign_recipients;
DROP TABLE IF EXISTS campaigns;
