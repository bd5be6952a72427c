/** python-misfit's notification test vectors (cloud-protocols.md §1.7): payloads, signatures, the test certificate. */

export const TEST_CERTIFICATE = `-----BEGIN CERTIFICATE-----
MIIDXzCCAkegAwIBAgIJAORGd9pM/u2kMA0GCSqGSIb3DQEBBQUAMEUxCzAJBgNV
BAYTAkFVMRMwEQYDVQQIDApTb21lLVN0YXRlMSEwHwYDVQQKDBhJbnRlcm5ldCBX
aWRnaXRzIFB0eSBMdGQwIBcNMTQxMjEyMDA0ODExWhgPNDc1MjExMDcwMDQ4MTFa
MEUxCzAJBgNVBAYTAkFVMRMwEQYDVQQIDApTb21lLVN0YXRlMSEwHwYDVQQKDBhJ
bnRlcm5ldCBXaWRnaXRzIFB0eSBMdGQwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw
ggEKAoIBAQDeOc8xOLR8DpIXnDBSzhc8BLZvvzU5dY70xDyZYSQalJNsUfCGcKMi
3XyCOrRmb/bgnuve4SZkQi1R7I/sM8iZTpsaGtqEhZrrCZAvnCMNPo6fm9fgi5OD
x1zrB5VbDFHavZTOEzqGx8SHUtazAbCbfQ8B4L5Fm1JG/9kO6/Cp9qJHaLt1LyQg
RLJMY2p5JpS43pMhFaaeaBfuQJTBZ0rXcpHkQsiyaiRyn2DtJ4hMEWmGWwKTXIyn
/gzkqUzkiVc8BmPy3ONN/xm/Zb4VgNatbhKwJiK58UiiS9x78nmQ+VA9S+lnofQi
PCEa+S71FScT21I9V4i+EURplu+aAkP9AgMBAAGjUDBOMB0GA1UdDgQWBBRobqfR
qVbgPcsfJuNd16TRaUUgFzAfBgNVHSMEGDAWgBRobqfRqVbgPcsfJuNd16TRaUUg
FzAMBgNVHRMEBTADAQH/MA0GCSqGSIb3DQEBBQUAA4IBAQDN0F+lu3YyBSbWHNBQ
+FR84J5MdXM/A0+x3HqJ0eAoXQH7Tipu7OGkO6usc8XZEWCnTU6Ee1UjatKMNepe
ZM+5OmRFzDarzd6tVmterg+jsI0M61UzEEN2TzmgqYbK284g7rHrGavTdHEeVFfU
WFQTHJcd8mYuqCpEN9+EEG3vIQok8v6ChrJ8YJ2prp9NWFC3jaPttugHQqhqEhBI
o7ISX4GoAuvLSwyA3WY6H5e7rwpM2mvCIw8YadA8YbKdapuZjCB3T/10kXa1tfFF
PJM1hrV8tLyatN1kxhBhtUO1UE3qkxnlSH6T9+yak1ZYLNd0hPlXRCvGPv7vsrWN
cd7x
-----END CERTIFICATE-----
`;

/** Payload A: a signed SubscriptionConfirmation. */
export const PAYLOAD_A = {
  Timestamp: '2014-12-11T19:21:18.852Z',
  SubscribeURL: 'https://example-subscribe-url.com/path/to/verify_endpoint?verify_token=long_token&challenge=challenge',
  Token: 'very_long_token',
  Message:
    'You have chosen to subscribe to the topic arn:aws:sns:us-east-1:<number>:topic.\nTo confirm the subscription, visit the SubscribeURL included in this message.',
  MessageId: 'message-id',
  Type: 'SubscriptionConfirmation',
  SignatureVersion: '1',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem',
  TopicArn: 'arn:aws:sns:us-east-1:<number>:topic',
  Signature:
    'tvFpXC6HuuyYYmJjGvEl9ZEYCAPMMU41cejKOAumEb8WmihtBIYj8Nab972poOi3AKNK8PLejt5Xsz3c10Peak1bkv7x7cxGUxogBLH28h7AcBpIDHTD+igXZKzUFtnIqWCnu0sPDqJTWwALrzLzVzQbz7Xm2KoqJZ0xMlb0Awibi2VXkoq3h/6Gl+MRQHTs/AuwwMcwLl4CHdlYfItdenHW09Ney2qVTlFePDJ+SAtbzHSSs7+7AkR7nXP08AaHavJJEHYj5SJWjnH3xdBQnezVGEaVi2FrHuLQgpKevccq2ZoiaHWxIyJh67NnQPHT9UxBBQybu4R2GS/8UBPtYA==',
};

/** Payload B: a signed Notification. */
export const PAYLOAD_B = {
  Type: 'Notification',
  MessageId: 'message-id',
  TopicArn: 'topic-arn',
  Message: '[{"type":"goals","id":"scrubbed_id","ownerId":"scrubbed_ownerId","action":"updated","updatedAt":"2014-12-11T20:23:43Z"}]',
  Timestamp: '2014-12-11T20:23:44.182Z',
  SignatureVersion: '1',
  SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-d6d679a1d18e95c2f9ffcf11f4f9e198.pem',
  UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=subscription-arn',
  Signature:
    'DgJkNUR8S7CfWY7it8SeGBMGbkM1oVX4HaE7OyV/Rdamtqm5Y74jkmqMOr/6G0oSbZ3yqxWI0JPhzZFhA+tLGMleJeZ9zqGA17vt6k+wa2H/BbdIqoga8cBJsPBw5qjs7NacZgRiXoXrW65AUDlIGUYcgaoFkBrARXfYmwxgYYK9diu6p+FaEIGvftrwSkVyHtlsGabIe8x8YOSk3/sTvUCP9PUGa22zOA7VzdRuaMGVQerJ3jdaJ0pmgMw0GoTLUd/TEHVTj8kSTnhbnMF/3FoRS/cPLlfNVWvSZIgqywwYARlLetO/r2PByan+6/ks54nKuQnUE34TCgO26mhV3w==',
};

/** Payload B signed with SHA-256 by the same key (derived, for SignatureVersion 2). */
export const PAYLOAD_B_SHA256_SIGNATURE =
  'ehQ5R3UZ84b0uENWO3xZ9l/zuK/WFbV6/nY+0a8pN9/dx0P6K2wz3UiWne5S9HI+BN3WGQD+EG7v7IgOrKMHTocRmd/WClnvxPBbtH/ZGBM3x2oXyf8mzOXumTTpTePoM4vFezhu0lEhhv6K1Xg4aZ87qUf0iKBKWsTCX9ukmtjTDdgMVlumb9PzqdRYlQRzzEYjSBm7N5kaRVE70Svzu8RTkVgoUjfVSxTbyZ5Hpom9zfqBZ7PPQFpFAvyCNLv0WlhRvChiaaY/Euu7C/hz8NnRNMhz0cBlSYMR8j199lGpu0EbIxaW4Nc8mC+7GOzNIVGx031TY87zmL1MCUOJOg==';
