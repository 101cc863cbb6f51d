// Integration tests wait on a real broker and database; their own waits are bounded more tightly.
jest.setTimeout(180_000);
