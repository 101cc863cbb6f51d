// Proves that a URL or a free text shown to an operator keeps everything that helps find the server and
// loses the password, by redacting URLs with and without credentials and texts that quote them.
import { REDACTED, redactUrl, redactUrlsIn } from './redact';

describe('redacting secrets before they are shown', () => {
  describe('a connection URL', () => {
    it.each([
      [
        'postgres://owner:s3cr%40t@db.internal:5432/tributary',
        'postgres://owner:[redacted]@db.internal:5432/tributary',
      ],
      ['postgres://postgres@127.0.0.1:5432/tributary', 'postgres://postgres@127.0.0.1:5432/tributary'],
      ['postgresql://127.0.0.1/tributary', 'postgresql://127.0.0.1/tributary'],
      [
        'postgres://u@h/db?sslmode=require&password=hunter22&sslpassword=pw2',
        'postgres://u@h/db?sslmode=require&password=[redacted]&sslpassword=[redacted]',
      ],
      ['https://hook:t0ken@rail.example/pay', 'https://hook:[redacted]@rail.example/pay'],
    ])('shows %s as %s', (url, shown) => {
      expect(redactUrl(url)).toBe(shown);
    });

    it('does not show a value that is not a URL, since its password cannot be found', () => {
      expect(redactUrl('postgres://u:s3cret@[broken/db')).toBe('(a value that is not a URL)');
    });
  });

  describe('a free text', () => {
    it('replaces the password of every URL it quotes and leaves the rest', () => {
      const text =
        'connect failed for postgres://owner:pa:ss@10.0.0.1:5432/db; retrying with postgresql://reader:r3ad3r@h/db';
      expect(redactUrlsIn(text)).toBe(
        `connect failed for postgres://owner:${REDACTED}@10.0.0.1:5432/db; retrying with postgresql://reader:${REDACTED}@h/db`,
      );
    });

    it('leaves URLs without a password and times like 12:30 alone', () => {
      const text = 'at 12:30 the gateway at http://127.0.0.1:3100/health/ready answered; postgres://u@h/db is up';
      expect(redactUrlsIn(text)).toBe(text);
    });
  });
});
