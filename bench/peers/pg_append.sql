-- bench/peers/pg_append.sql: pgbench script of the PostgreSQL peer (row 1). One event per
-- transaction (autocommit), each in a new stream (version 1), with a 400-byte jsonb body shaped
-- like a tokenledger audit event.
insert into events(stream, version, data)
  values ('tok_' || gen_random_uuid(), 1, '{"type":"TokenRevealed","token_id":"tok_01M8FP4SDF637Q56GF4B9WJ6XW","owner":"bench","actor":{"user":"bench","via":"session"},"source":{"ip":"127.0.0.1","user_agent":"wrk/4.1.0xxxxxxxxxxxxxxxxxxxxxxxxxxx","request_id":"2503ef2ceb114e3f"},"data":{},"prev_hash":"9f2c1a6be0d54c8a7f3e2b1d0c9a8f7e6d5c4b3a29180716253443526170819a","hash":"0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}'::jsonb);
