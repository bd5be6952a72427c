/**
 * XPath 1.0's axes (§2.2) but namespace, which the tree never has nodes on, in the order the generated XPath
 * tests draw from: each test takes the ones it checks from here and says why it leaves the others out.
 */
export const XPATH_AXES = [
  'child',
  'descendant',
  'descendant-or-self',
  'parent',
  'ancestor',
  'ancestor-or-self',
  'following-sibling',
  'preceding-sibling',
  'following',
  'preceding',
  'self',
  'attribute',
];
