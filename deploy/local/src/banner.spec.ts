// Proves `npm start`'s "stack is up" banner tells where everything is without showing a secret, by
// building it for a database URL that carries a password.
import { LOCAL_SERVICES } from './services';
import { whereToReachLines } from './banner';

describe("npm start's banner", () => {
  it('shows the database server, user and database but not the password, and names the token and credential files only', () => {
    const lines = whereToReachLines({
      brokers: '127.0.0.1:9092',
      commandConfig: ' --command-config .cache/kafka-data/dev/credentials/operator.properties',
      databaseUrl: 'postgres://owner:banner-s3cret@db.internal:5432/tributary?password=banner-s3cret',
      schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
      services: LOCAL_SERVICES,
      operatorTokenFile: '.cache/local/payouts-operator-token',
      readCredentialFile: '.cache/local/read-operator-credential',
    });
    const text = lines.join('\n');
    expect(text).not.toContain('banner-s3cret');
    expect(lines).toContain(
      '  PostgreSQL   postgres://owner:[redacted]@db.internal:5432/tributary?password=[redacted]',
    );
    expect(lines).toContain('  schemas      http://127.0.0.1:8081/apis/ccompat/v7/subjects');
    expect(lines).toContain('  gateway      http://127.0.0.1:3100/health/ready');
    expect(text).toContain('in .cache/local/payouts-operator-token (not printed)');
    expect(text).toContain('read credential is in .cache/local/read-operator-credential (not printed)');
  });
});
