DROP TABLE campaign_calls;
