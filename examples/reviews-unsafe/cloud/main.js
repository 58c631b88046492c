// A small reviews app, written the way many Parse apps are: it works, and it is unsafe. `parsec audit`
// finds each problem; ../reviews is the same app with every finding fixed.

// From the forum thread: the function checks request.user itself, but declares nothing, so with
// requireFunctionAccess off anyone with the app keys can call it.
Parse.Cloud.define('someCloudCode', async (request) => {
  if (request.user) {
    return 'logged in';
  }
  return 'not logged in';
});

// From the Parse docs: safe as written (requireUser, declared params).
Parse.Cloud.define('averageStars', async (request) => {
  const query = new Parse.Query('Review');
  const results = await query.find();
  let sum = 0;
  for (let i = 0; i < results.length; ++i) {
    sum += results[i].get('stars');
  }
  return results.length === 0 ? 0 : sum / results.length;
}, {
  fields: ['movie'],
  requireUser: true,
});

// Public, and it escalates: any client can wipe every review's score.
Parse.Cloud.define('resetScores', async () => {
  const reviews = await new Parse.Query('Review').find({ useMasterKey: true });
  for (const review of reviews) review.set('stars', 0);
  await Parse.Object.saveAll(reviews, { useMasterKey: true });
  return reviews.length;
}, { public: true });

// The escalation hides in a helper of the same file; the audit follows the call.
async function allReviews() {
  return new Parse.Query('Review').limit(1000).find({ useMasterKey: true });
}
Parse.Cloud.define('exportReviews', async () => {
  const reviews = await allReviews();
  return reviews.map((review) => review.toJSON());
}, { public: true });

// Reads params it never declares: a client may send an object or an array as `text`.
Parse.Cloud.define('editReview', async (request) => {
  const review = await new Parse.Query('Review').get(request.params.reviewId);
  review.set('text', request.params.text);
  return review.save();
}, { requireUser: true, fields: { reviewId: { type: String, required: true } } });

Parse.Cloud.beforeSave('Review', async (request) => {
  const author = await new Parse.Query(Parse.User).get(request.user.id, { useMasterKey: true });
  request.object.set('authorName', author.get('username'));
});
