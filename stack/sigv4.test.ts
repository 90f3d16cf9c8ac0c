/**
 * verifySigV4 against the worked examples of the S3 SigV4 documentation ("Signature Calculations for the
 * Authorization Header" and "Authenticating Requests: Using Query Parameters", examplebucket, 2013-05-24).
 */
import { describe, expect, it } from '@jest/globals';
import { verifySigV4, type SigV4Request } from './sigv4.js';

const credentials = [{ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' }];
const options = { credentials, region: 'us-east-1', now: new Date('2013-05-24T00:05:00Z') };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const getObject: SigV4Request = {
  method: 'GET',
  url: '/test.txt',
  rawHeaders: [
    'Host', 'examplebucket.s3.amazonaws.com',
    'Range', 'bytes=0-9',
    'x-amz-content-sha256', EMPTY_SHA256,
    'x-amz-date', '20130524T000000Z',
    'Authorization',
    'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
  ],
};

const presignedUrl =
  '/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
  '&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host' +
  '&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
const presigned: SigV4Request = { method: 'GET', url: presignedUrl, rawHeaders: ['Host', 'examplebucket.s3.amazonaws.com'] };

describe('verifySigV4', () => {
  it("accepts AWS's header-signed GET example and asks for the empty body's hash", () => {
    expect(verifySigV4(getObject, options)).toEqual({ ok: true, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', payloadSha256: EMPTY_SHA256 });
  });

  it("accepts AWS's presigned GET example with an unsigned payload", () => {
    expect(verifySigV4(presigned, options)).toEqual({ ok: true, accessKeyId: 'AKIAIOSFODNN7EXAMPLE', payloadSha256: undefined });
  });

  it('refuses the header example once a signed header changes', () => {
    const tampered = { ...getObject, rawHeaders: getObject.rawHeaders.map((v) => (v === 'bytes=0-9' ? 'bytes=0-99' : v)) };
    expect(verifySigV4(tampered, options)).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses an unsigned x-amz-* header added to a signed request', () => {
    const extra = { ...getObject, rawHeaders: [...getObject.rawHeaders, 'x-amz-acl', 'public-read'] };
    expect(verifySigV4(extra, options)).toMatchObject({ ok: false, status: 403, code: 'AccessDenied', details: { HeadersNotSigned: 'x-amz-acl' } });
  });

  it('refuses the presigned example once a query parameter is added, changed or the path differs', () => {
    for (const url of [`${presignedUrl}&partNumber=2`, presignedUrl.replace('Expires=86400', 'Expires=86401'), presignedUrl.replace('/test.txt', '/test2.txt')]) {
      expect(verifySigV4({ ...presigned, url }, options)).toMatchObject({ ok: false, status: 403, code: 'SignatureDoesNotMatch' });
    }
  });

  it('refuses the presigned example after it expired', () => {
    expect(verifySigV4(presigned, { ...options, now: new Date('2013-05-25T00:00:01Z') })).toMatchObject({ ok: false, status: 403, code: 'AccessDenied', message: 'Request has expired' });
  });

  it('refuses an unknown access key, a request without authentication and a skewed clock', () => {
    expect(verifySigV4(getObject, { ...options, credentials: [{ accessKeyId: 'OTHER', secretAccessKey: 'x' }] })).toMatchObject({ status: 403, code: 'InvalidAccessKeyId' });
    expect(verifySigV4({ method: 'GET', url: '/test.txt', rawHeaders: ['Host', 'h'] }, options)).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(verifySigV4(getObject, { ...options, now: new Date('2013-05-24T00:16:00Z') })).toMatchObject({ status: 403, code: 'RequestTimeTooSkewed' });
  });

  it('refuses SigV2 and a credential scoped to another region', () => {
    expect(verifySigV4({ method: 'GET', url: '/t?AWSAccessKeyId=a&Expires=1&Signature=x', rawHeaders: [] }, options)).toMatchObject({ status: 400, code: 'InvalidRequest' });
    expect(verifySigV4(getObject, { ...options, region: 'eu-west-1' })).toMatchObject({ status: 400, code: 'AuthorizationHeaderMalformed' });
  });
});
