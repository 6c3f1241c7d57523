/**
 * The demo users of the local server, one or two per role: `npm start` prints a token for
 * each, and the web app offers each on its local sign-in page.
 */
export const demoUsers: readonly { sub: string; groups: string[] }[] = [
  { sub: 'alice', groups: ['sales'] },
  { sub: 'bob', groups: ['sales'] },
  { sub: 'carol', groups: ['supervisor'] },
  { sub: 'dave', groups: ['warehouse'] },
  { sub: 'erin', groups: ['finance'] },
  { sub: 'frank', groups: ['customer-relations'] },
  { sub: 'grace', groups: ['purchasing'] },
];
