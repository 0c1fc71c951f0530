<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ar" sourcelanguage="en">
<context>
    <name>AuditView</name>
    <message>
        <source>Audit trail</source>
        <translation>سجل التدقيق</translation>
    </message>
    <message>
        <source>target or detail contains …</source>
        <translation>الهدف أو التفاصيل تحتوي …</translation>
    </message>
    <message>
        <source>Show</source>
        <translation>عرض</translation>
    </message>
    <message>
        <source>User</source>
        <translation>المستخدم</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>الإجراء</translation>
    </message>
    <message>
        <source>From</source>
        <translation>من</translation>
    </message>
    <message>
        <source>to</source>
        <translation>إلى</translation>
    </message>
</context>
<context>
    <name>Blocker</name>
    <message>
        <source>Log in to test packs.</source>
        <translation>سجّل الدخول لاختبار البطاريات.</translation>
    </message>
    <message>
        <source>A test is running.</source>
        <translation>يجري اختبار الآن.</translation>
    </message>
    <message>
        <source>Scan the pack&apos;s serial number.</source>
        <translation>امسح الرقم التسلسلي للبطارية.</translation>
    </message>
    <message>
        <source>This serial number has the wrong format. Scan again.</source>
        <translation>صيغة الرقم التسلسلي غير صحيحة. امسح مرة أخرى.</translation>
    </message>
    <message>
        <source>Choose the variant.</source>
        <translation>اختر الطراز.</translation>
    </message>
    <message>
        <source>Close the door / release the e-stop.</source>
        <translation>أغلق الباب / حرّر زر الطوارئ.</translation>
    </message>
    <message>
        <source>An instrument is missing. Call an engineer.</source>
        <translation>جهاز قياس مفقود. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>An instrument&apos;s calibration has expired. Call an engineer.</source>
        <translation>انتهت صلاحية معايرة جهاز قياس. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The test files are not released. Call an engineer.</source>
        <translation>ملفات الاختبار غير معتمدة. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The production mode was changed outside the station. Call an engineer.</source>
        <translation>تم تغيير وضع الإنتاج خارج المحطة. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The last test could not confirm the sources off. Do not touch the pack; call an engineer.</source>
        <translation>لم يتمكن الاختبار الأخير من تأكيد إطفاء المصادر. لا تلمس البطارية؛ اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The results disk is full. Call an engineer.</source>
        <translation>قرص النتائج ممتلئ. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>This pack cannot be retested now. Call a supervisor.</source>
        <translation>لا يمكن إعادة اختبار هذه البطارية الآن. اتصل بالمشرف.</translation>
    </message>
    <message>
        <source>Today&apos;s master packs are not verified yet.</source>
        <translation>لم يتم التحقق من بطاريات المرجع لهذا اليوم بعد.</translation>
    </message>
    <message>
        <source>The MES refuses this pack. Call an engineer.</source>
        <translation>نظام MES يرفض هذه البطارية. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>A step asks more than an instrument can give. Call an engineer.</source>
        <translation>خطوة تطلب أكثر مما يستطيع جهاز القياس. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>The test cannot start. The reason is in the details.</source>
        <translation>لا يمكن بدء الاختبار. السبب في التفاصيل.</translation>
    </message>
</context>
<context>
    <name>Column</name>
    <message>
        <source>When</source>
        <translation>الوقت</translation>
    </message>
    <message>
        <source>User</source>
        <translation>المستخدم</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>الإجراء</translation>
    </message>
    <message>
        <source>Target</source>
        <translation>الهدف</translation>
    </message>
    <message>
        <source>Detail</source>
        <translation>التفاصيل</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>النوع</translation>
    </message>
    <message>
        <source>File</source>
        <translation>الملف</translation>
    </message>
    <message>
        <source>Name / version</source>
        <translation>الاسم / الإصدار</translation>
    </message>
    <message>
        <source>sha256</source>
        <translation>sha256</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>الحالة</translation>
    </message>
    <message>
        <source>By</source>
        <translation>بواسطة</translation>
    </message>
    <message>
        <source>Note</source>
        <translation>ملاحظة</translation>
    </message>
    <message>
        <source>Revoked</source>
        <translation>ملغى</translation>
    </message>
    <message>
        <source>Blocks the start</source>
        <translation>يمنع البدء</translation>
    </message>
    <message>
        <source>Override</source>
        <translation>استثناء</translation>
    </message>
    <message>
        <source>Role</source>
        <translation>الدور</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>أُنشئ</translation>
    </message>
    <message>
        <source>Login</source>
        <translation>الدخول</translation>
    </message>
    <message>
        <source>Fault</source>
        <translation>العطل</translation>
    </message>
    <message>
        <source>Magnitude</source>
        <translation>المقدار</translation>
    </message>
    <message>
        <source>Default</source>
        <translation>الافتراضي</translation>
    </message>
    <message>
        <source>What it does</source>
        <translation>ما يفعله</translation>
    </message>
    <message>
        <source>Instrument</source>
        <translation>جهاز القياس</translation>
    </message>
    <message>
        <source>Calibration</source>
        <translation>المعايرة</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>البدء</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>الرقم التسلسلي</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>الطراز</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>النتيجة</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>المشغّل</translation>
    </message>
    <message>
        <source>Sequence</source>
        <translation>التسلسل</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Group</source>
        <translation>المجموعة</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>الخطوة</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>النوع</translation>
    </message>
    <message>
        <source>Result</source>
        <translation>النتيجة</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>الوقت</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>الخطأ</translation>
    </message>
    <message>
        <source>Measurement</source>
        <translation>القياس</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>القيمة</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>الحدود</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>الاسم</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>الحجم</translation>
    </message>
    <message>
        <source>Path</source>
        <translation>المسار</translation>
    </message>
    <message>
        <source>Level</source>
        <translation>المستوى</translation>
    </message>
    <message>
        <source>Message</source>
        <translation>الرسالة</translation>
    </message>
</context>
<context>
    <name>EngineeringPage</name>
    <message>
        <source>{when} by {user}</source>
        <translation>{when} بواسطة {user}</translation>
    </message>
    <message>
        <source>disabled</source>
        <translation>معطّل</translation>
    </message>
    <message>
        <source>enabled</source>
        <translation>مفعّل</translation>
    </message>
    <message>
        <source>reason / note for the audit trail (required)</source>
        <translation>السبب / ملاحظة لسجل التدقيق (مطلوب)</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>السبب</translation>
    </message>
    <message>
        <source>Production mode</source>
        <translation>وضع الإنتاج</translation>
    </message>
    <message>
        <source>Release selected file</source>
        <translation>اعتماد الملف المحدد</translation>
    </message>
    <message>
        <source>Revoke its release</source>
        <translation>إلغاء اعتماده</translation>
    </message>
    <message>
        <source>Sequence and limit files (released = locked by sha256)</source>
        <translation>ملفات التسلسل والحدود (معتمد = مقفل بـ sha256)</translation>
    </message>
    <message>
        <source>Release history</source>
        <translation>سجل الاعتمادات</translation>
    </message>
    <message>
        <source>Override selected (one shift)</source>
        <translation>استثناء المحدد (وردية واحدة)</translation>
    </message>
    <message>
        <source>Overrides (expired calibration, unconfirmed safe state)</source>
        <translation>الاستثناءات (معايرة منتهية، وضع آمن غير مؤكد)</translation>
    </message>
    <message>
        <source>user name</source>
        <translation>اسم المستخدم</translation>
    </message>
    <message>
        <source>password (8+ characters)</source>
        <translation>كلمة المرور (8 أحرف أو أكثر)</translation>
    </message>
    <message>
        <source>Add user</source>
        <translation>إضافة مستخدم</translation>
    </message>
    <message>
        <source>Disable selected</source>
        <translation>تعطيل المحدد</translation>
    </message>
    <message>
        <source>Enable selected</source>
        <translation>تفعيل المحدد</translation>
    </message>
    <message>
        <source>Set selected&apos;s password</source>
        <translation>تعيين كلمة مرور المحدد</translation>
    </message>
    <message>
        <source>Users (admins) — the reason above is required</source>
        <translation>المستخدمون (المسؤولون) — السبب أعلاه مطلوب</translation>
    </message>
    <message>
        <source>PRODUCTION: only released files run</source>
        <translation>إنتاج: تعمل الملفات المعتمدة فقط</translation>
    </message>
    <message>
        <source>ENGINEERING: unreleased files may run — not for production</source>
        <translation>هندسي: قد تعمل ملفات غير معتمدة — ليس للإنتاج</translation>
    </message>
    <message>
        <source>Switch to engineering mode</source>
        <translation>التحويل إلى الوضع الهندسي</translation>
    </message>
    <message>
        <source>Switch to production mode</source>
        <translation>التحويل إلى وضع الإنتاج</translation>
    </message>
    <message>
        <source>CHANGED ON DISK since loading</source>
        <translation>تغيّر على القرص منذ التحميل</translation>
    </message>
    <message>
        <source>NOT released</source>
        <translation>غير معتمد</translation>
    </message>
    <message>
        <source>released by {user} {when}</source>
        <translation>اعتمده {user} {when}</translation>
    </message>
    <message>
        <source>✔ {what}: done (recorded in the audit trail)</source>
        <translation>✔ {what}: تم (مسجّل في سجل التدقيق)</translation>
    </message>
    <message>
        <source>select a file to release</source>
        <translation>اختر ملفًا لاعتماده</translation>
    </message>
    <message>
        <source>release</source>
        <translation>اعتماد</translation>
    </message>
    <message>
        <source>select a released file</source>
        <translation>اختر ملفًا معتمدًا</translation>
    </message>
    <message>
        <source>revoke</source>
        <translation>إلغاء الاعتماد</translation>
    </message>
    <message>
        <source>production mode</source>
        <translation>وضع الإنتاج</translation>
    </message>
    <message>
        <source>select what to override</source>
        <translation>اختر ما تريد استثناءه</translation>
    </message>
    <message>
        <source>override</source>
        <translation>استثناء</translation>
    </message>
    <message>
        <source>add user</source>
        <translation>إضافة مستخدم</translation>
    </message>
    <message>
        <source>select a user</source>
        <translation>اختر مستخدمًا</translation>
    </message>
    <message>
        <source>disable user</source>
        <translation>تعطيل مستخدم</translation>
    </message>
    <message>
        <source>enable user</source>
        <translation>تفعيل مستخدم</translation>
    </message>
    <message>
        <source>select a user, type the new password, give a reason</source>
        <translation>اختر مستخدمًا، اكتب كلمة المرور الجديدة، واذكر السبب</translation>
    </message>
    <message>
        <source>set password</source>
        <translation>تعيين كلمة المرور</translation>
    </message>
</context>
<context>
    <name>FaultPanel</name>
    <message>
        <source>Virtual-bench faults (training and demos; on until the UI closes)</source>
        <translation>أعطال المنصة الافتراضية (للتدريب والعروض؛ فعّالة حتى إغلاق الواجهة)</translation>
    </message>
    <message>
        <source>Inject selected fault</source>
        <translation>حقن العطل المحدد</translation>
    </message>
    <message>
        <source>Nest</source>
        <translation>الموضع</translation>
    </message>
    <message>
        <source>On: {faults}</source>
        <translation>فعّال: {faults}</translation>
    </message>
    <message>
        <source>magnitude (empty = the default)</source>
        <translation>المقدار (فارغ = الافتراضي)</translation>
    </message>
    <message>
        <source>{magnitude} (default {default})</source>
        <translation>{magnitude} (الافتراضي {default})</translation>
    </message>
    <message>
        <source>no magnitude</source>
        <translation>بلا مقدار</translation>
    </message>
    <message>
        <source>select a fault first</source>
        <translation>اختر عطلًا أولًا</translation>
    </message>
    <message>
        <source>✔ {fault} is on; the next pack runs with it</source>
        <translation>✔ {fault} فعّال؛ البطارية التالية تُختبر به</translation>
    </message>
</context>
<context>
    <name>HealthPanel</name>
    <message>
        <source>✔ OK</source>
        <translation>✔ سليم</translation>
    </message>
    <message>
        <source>! due soon</source>
        <translation>! يستحق قريبًا</translation>
    </message>
    <message>
        <source>✖ EXPIRED</source>
        <translation>✖ منتهي</translation>
    </message>
    <message>
        <source>! override</source>
        <translation>! استثناء</translation>
    </message>
    <message>
        <source>✖ MISSING</source>
        <translation>✖ مفقود</translation>
    </message>
    <message>
        <source>safe for HV</source>
        <translation>آمن للجهد العالي</translation>
    </message>
    <message>
        <source>NOT safe for HV</source>
        <translation>غير آمن للجهد العالي</translation>
    </message>
    <message>
        <source>cannot read the interlocks</source>
        <translation>تعذّرت قراءة الأقفال الأمنية</translation>
    </message>
    <message>
        <source>{n} days left</source>
        <translation>متبقٍ {n} يوم</translation>
    </message>
    <message>
        <source>{n} days OVERDUE</source>
        <translation>متأخر {n} يوم</translation>
    </message>
    <message>
        <source>due {date}</source>
        <translation>الاستحقاق {date}</translation>
    </message>
    <message>
        <source>Station health</source>
        <translation>حالة المحطة</translation>
    </message>
    <message>
        <source>Interlocks: {state}</source>
        <translation>الأقفال الأمنية: {state}</translation>
    </message>
    <message>
        <source>Mode: PRODUCTION (released files only)</source>
        <translation>الوضع: إنتاج (الملفات المعتمدة فقط)</translation>
    </message>
    <message>
        <source>Mode: ENGINEERING</source>
        <translation>الوضع: هندسي</translation>
    </message>
    <message>
        <source>Sequence: {sequence}</source>
        <translation>التسلسل: {sequence}</translation>
    </message>
    <message>
        <source>Masters verified today</source>
        <translation>تم التحقق من المراجع اليوم</translation>
    </message>
    <message>
        <source>Masters NOT verified today</source>
        <translation>لم يتم التحقق من المراجع اليوم</translation>
    </message>
</context>
<context>
    <name>LoginPage</name>
    <message>
        <source>Create the first administrator</source>
        <translation>إنشاء أول مسؤول</translation>
    </message>
    <message>
        <source>This station has no users yet. The first account is an administrator, who then adds operators and engineers.</source>
        <translation>لا يوجد مستخدمون في هذه المحطة بعد. الحساب الأول مسؤول، ثم يضيف المشغّلين والمهندسين.</translation>
    </message>
    <message>
        <source>Log in — {station}</source>
        <translation>تسجيل الدخول — {station}</translation>
    </message>
    <message>
        <source>Operators test packs; engineers and admins also browse results and release files.</source>
        <translation>المشغّلون يختبرون البطاريات؛ المهندسون والمسؤولون يتصفحون النتائج ويعتمدون الملفات أيضًا.</translation>
    </message>
    <message>
        <source>User</source>
        <translation>المستخدم</translation>
    </message>
    <message>
        <source>Password</source>
        <translation>كلمة المرور</translation>
    </message>
    <message>
        <source>Repeat password</source>
        <translation>أعد كلمة المرور</translation>
    </message>
    <message>
        <source>CREATE AND LOG IN</source>
        <translation>إنشاء وتسجيل الدخول</translation>
    </message>
    <message>
        <source>LOG IN</source>
        <translation>تسجيل الدخول</translation>
    </message>
    <message>
        <source>logged out after a period without input</source>
        <translation>تم تسجيل الخروج بعد فترة دون استخدام</translation>
    </message>
    <message>
        <source>the two passwords differ</source>
        <translation>كلمتا المرور مختلفتان</translation>
    </message>
    <message>
        <source>wrong user name or password (or the account is disabled)</source>
        <translation>اسم المستخدم أو كلمة المرور غير صحيحة (أو الحساب معطّل)</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>EOL station {station} — {sequence}</source>
        <translation>محطة EOL {station} — {sequence}</translation>
    </message>
    <message>
        <source>Station {station}</source>
        <translation>المحطة {station}</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>تسجيل الخروج</translation>
    </message>
    <message>
        <source>Test</source>
        <translation>الاختبار</translation>
    </message>
    <message>
        <source>Results</source>
        <translation>النتائج</translation>
    </message>
    <message>
        <source>Engineering</source>
        <translation>الهندسة</translation>
    </message>
    <message>
        <source>Audit trail</source>
        <translation>سجل التدقيق</translation>
    </message>
    <message>
        <source>not logged in</source>
        <translation>لم يسجَّل الدخول</translation>
    </message>
    <message>
        <source>In kiosk mode only an engineer may close the station window.</source>
        <translation>في وضع الكشك، يغلق نافذة المحطة مهندس فقط.</translation>
    </message>
</context>
<context>
    <name>Measurement</name>
    <message>
        <source>not measured</source>
        <translation>لم يُقَس</translation>
    </message>
</context>
<context>
    <name>NestsScreen</name>
    <message>
        <source>Nest {label}</source>
        <translation>الموضع {label}</translation>
    </message>
</context>
<context>
    <name>OperatorScreen</name>
    <message>
        <source>scan the pack&apos;s serial number</source>
        <translation>امسح الرقم التسلسلي للبطارية</translation>
    </message>
    <message>
        <source>— choose variant —</source>
        <translation>— اختر الطراز —</translation>
    </message>
    <message>
        <source>START</source>
        <translation>ابدأ</translation>
    </message>
    <message>
        <source>ABORT</source>
        <translation>إيقاف</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>التفاصيل</translation>
    </message>
    <message>
        <source>Abort this test? Cleanup runs and every source is switched off.</source>
        <translation>إيقاف هذا الاختبار؟ يتم تنفيذ التنظيف وإطفاء كل المصادر.</translation>
    </message>
    <message>
        <source>YES, ABORT</source>
        <translation>نعم، أوقف</translation>
    </message>
    <message>
        <source>NO, CONTINUE</source>
        <translation>لا، تابع</translation>
    </message>
    <message>
        <source>TEST AGAIN</source>
        <translation>أعد الاختبار</translation>
    </message>
    <message>
        <source>CANCEL</source>
        <translation>إلغاء</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>الرقم التسلسلي</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>الخطوات</translation>
    </message>
    <message>
        <source>Measurements</source>
        <translation>القياسات</translation>
    </message>
    <message>
        <source>Press START to test {serial}</source>
        <translation>اضغط ابدأ لاختبار {serial}</translation>
    </message>
    <message>
        <source>{serial} was tested before. Test it again?</source>
        <translation>تم اختبار {serial} من قبل. هل تعيد اختباره؟</translation>
    </message>
    <message>
        <source>Scanned {serial} — it replaces {previous}. </source>
        <translation>تم مسح {serial} — يحل محل {previous}. </translation>
    </message>
    <message>
        <source>starting {serial} …</source>
        <translation>بدء {serial} …</translation>
    </message>
    <message>
        <source>ABORTING …</source>
        <translation>جارٍ الإيقاف …</translation>
    </message>
    <message>
        <source>cleanup runs; every source is being switched off</source>
        <translation>التنظيف جارٍ؛ يتم إطفاء كل المصادر</translation>
    </message>
    <message>
        <source>RUNNING step {k} of {n}</source>
        <translation>جارٍ الخطوة {k} من {n}</translation>
    </message>
    <message>
        <source>{time} left</source>
        <translation>متبقٍ {time}</translation>
    </message>
    <message>
        <source>{error} — call an engineer</source>
        <translation>{error} — اتصل بمهندس</translation>
    </message>
</context>
<context>
    <name>Outcome</name>
    <message>
        <source>{word} (marginal)</source>
        <translation>{word} (على الحد)</translation>
    </message>
    <message>
        <source>✔ PASS</source>
        <translation>✔ ناجح</translation>
    </message>
    <message>
        <source>✖ FAIL</source>
        <translation>✖ راسب</translation>
    </message>
    <message>
        <source>⚠ ERROR</source>
        <translation>⚠ خطأ</translation>
    </message>
    <message>
        <source>■ ABORTED</source>
        <translation>■ أُوقف</translation>
    </message>
    <message>
        <source>■ STOPPED</source>
        <translation>■ توقف</translation>
    </message>
    <message>
        <source>– skipped</source>
        <translation>– تم تخطيها</translation>
    </message>
    <message>
        <source>recorded</source>
        <translation>مسجَّل</translation>
    </message>
    <message>
        <source>▶ running</source>
        <translation>▶ جارٍ</translation>
    </message>
    <message>
        <source>– not run</source>
        <translation>– لم تُنفَّذ</translation>
    </message>
    <message>
        <source>■ INTERRUPTED</source>
        <translation>■ انقطع</translation>
    </message>
</context>
<context>
    <name>PromptPanel</name>
    <message>
        <source>OPERATOR ACTION</source>
        <translation>إجراء المشغّل</translation>
    </message>
    <message>
        <source>Type or scan the answer, then press OK.</source>
        <translation>اكتب الإجابة أو امسحها، ثم اضغط موافق.</translation>
    </message>
    <message>
        <source>Scan the barcode (or type it), then press OK.</source>
        <translation>امسح الرمز الشريطي (أو اكتبه)، ثم اضغط موافق.</translation>
    </message>
    <message>
        <source>(picture {image} not found)</source>
        <translation>(الصورة {image} غير موجودة)</translation>
    </message>
    <message>
        <source>YES</source>
        <translation>نعم</translation>
    </message>
    <message>
        <source>NO</source>
        <translation>لا</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>موافق</translation>
    </message>
    <message>
        <source>OK, DONE</source>
        <translation>موافق، تم</translation>
    </message>
    <message>
        <source>Enter a number from {low} to {high}.</source>
        <translation>أدخل رقمًا من {low} إلى {high}.</translation>
    </message>
    <message>
        <source>Enter a number of at least {low}.</source>
        <translation>أدخل رقمًا لا يقل عن {low}.</translation>
    </message>
    <message>
        <source>Enter a number of at most {high}.</source>
        <translation>أدخل رقمًا لا يزيد عن {high}.</translation>
    </message>
    <message>
        <source>Enter a number.</source>
        <translation>أدخل رقمًا.</translation>
    </message>
    <message>
        <source>{text} is not a number.</source>
        <translation>{text} ليس رقمًا.</translation>
    </message>
    <message>
        <source>{text} is out of range.</source>
        <translation>{text} خارج النطاق.</translation>
    </message>
    <message>
        <source>Enter an answer.</source>
        <translation>أدخل إجابة.</translation>
    </message>
    <message>
        <source>{text} does not have the expected format ({pattern}).</source>
        <translation>{text} ليس بالصيغة المتوقعة ({pattern}).</translation>
    </message>
</context>
<context>
    <name>Record</name>
    <message>
        <source> (previous run {run})</source>
        <translation> (التشغيل السابق {run})</translation>
    </message>
    <message>
        <source> — rework: {reason}</source>
        <translation> — إعادة عمل: {reason}</translation>
    </message>
    <message>
        <source>Verdict</source>
        <translation>النتيجة</translation>
    </message>
    <message>
        <source>Serial</source>
        <translation>الرقم التسلسلي</translation>
    </message>
    <message>
        <source>Variant</source>
        <translation>الطراز</translation>
    </message>
    <message>
        <source>Operator</source>
        <translation>المشغّل</translation>
    </message>
    <message>
        <source>Attempt</source>
        <translation>المحاولة</translation>
    </message>
    <message>
        <source>Station</source>
        <translation>المحطة</translation>
    </message>
    <message>
        <source>Started</source>
        <translation>البدء</translation>
    </message>
    <message>
        <source>Ended</source>
        <translation>الانتهاء</translation>
    </message>
    <message>
        <source>Sequence</source>
        <translation>التسلسل</translation>
    </message>
    <message>
        <source>Sequence sha256</source>
        <translation>sha256 للتسلسل</translation>
    </message>
    <message>
        <source>Limits</source>
        <translation>الحدود</translation>
    </message>
    <message>
        <source>Config sha256</source>
        <translation>sha256 للإعدادات</translation>
    </message>
    <message>
        <source>Software</source>
        <translation>البرنامج</translation>
    </message>
    <message>
        <source>Safe state</source>
        <translation>الوضع الآمن</translation>
    </message>
    <message>
        <source>Run id</source>
        <translation>معرّف التشغيل</translation>
    </message>
    <message>
        <source>confirmed off</source>
        <translation>الإطفاء مؤكد</translation>
    </message>
    <message>
        <source>NOT CONFIRMED</source>
        <translation>غير مؤكد</translation>
    </message>
    <message>
        <source>(inline)</source>
        <translation>(ضمن التسلسل)</translation>
    </message>
    <message>
        <source>cal due {date}</source>
        <translation>المعايرة مستحقة {date}</translation>
    </message>
    <message>
        <source>Instruments</source>
        <translation>أجهزة القياس</translation>
    </message>
</context>
<context>
    <name>ResultsBrowser</name>
    <message>
        <source>serial contains …</source>
        <translation>الرقم التسلسلي يحتوي …</translation>
    </message>
    <message>
        <source>dates</source>
        <translation>التواريخ</translation>
    </message>
    <message>
        <source>to</source>
        <translation>إلى</translation>
    </message>
    <message>
        <source>any verdict</source>
        <translation>أي نتيجة</translation>
    </message>
    <message>
        <source>any variant</source>
        <translation>أي طراز</translation>
    </message>
    <message>
        <source>Search</source>
        <translation>بحث</translation>
    </message>
    <message>
        <source>Certificate…</source>
        <translation>الشهادة…</translation>
    </message>
    <message>
        <source>Save the selected run&apos;s birth certificate (PDF or HTML)</source>
        <translation>حفظ شهادة الميلاد للتشغيل المحدد (PDF أو HTML)</translation>
    </message>
    <message>
        <source>Measurement</source>
        <translation>القياس</translation>
    </message>
    <message>
        <source>Record</source>
        <translation>السجل</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>الخطوات</translation>
    </message>
    <message>
        <source>Measurements</source>
        <translation>القياسات</translation>
    </message>
    <message>
        <source>Time series</source>
        <translation>السلاسل الزمنية</translation>
    </message>
    <message>
        <source>Attachments</source>
        <translation>المرفقات</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>السجل التفصيلي</translation>
    </message>
    <message>
        <source>Statistics</source>
        <translation>الإحصاءات</translation>
    </message>
    <message>
        <source>{runs} runs · {packs} packs · passed {passed} · first-pass yield {fpy}</source>
        <translation>{runs} تشغيل · {packs} بطارية · ناجحة {passed} · النجاح من أول مرة {fpy}</translation>
    </message>
    <message>
        <source> (from the newest runs only: narrow the dates)</source>
        <translation> (من أحدث التشغيلات فقط: ضيّق التواريخ)</translation>
    </message>
    <message>
        <source> (far outside the plotted range)</source>
        <translation> (بعيدة خارج نطاق الرسم)</translation>
    </message>
    <message>
        <source>&lt;b&gt;{what}&lt;/b&gt; ({part}) — n = {n}, mean {mean}, σ {stdev}, Cpk &lt;b&gt;{cpk}&lt;/b&gt;, limits {limits}{far}, failed {failed}</source>
        <translation>&lt;b&gt;{what}&lt;/b&gt; ({part}) — n = {n}، المتوسط {mean}، σ {stdev}، Cpk &lt;b&gt;{cpk}&lt;/b&gt;، الحدود {limits}{far}، راسبة {failed}</translation>
    </message>
    <message>
        <source>Save the birth certificate</source>
        <translation>حفظ شهادة الميلاد</translation>
    </message>
    <message>
        <source>Certificate</source>
        <translation>الشهادة</translation>
    </message>
</context>
<context>
    <name>Role</name>
    <message>
        <source>operator</source>
        <translation>مشغّل</translation>
    </message>
    <message>
        <source>engineer</source>
        <translation>مهندس</translation>
    </message>
    <message>
        <source>admin</source>
        <translation>مسؤول</translation>
    </message>
</context>
<context>
    <name>RunView</name>
    <message>
        <source>{word} (attempt {n})</source>
        <translation>{word} (المحاولة {n})</translation>
    </message>
    <message>
        <source>Scan the next pack</source>
        <translation>امسح البطارية التالية</translation>
    </message>
    <message>
        <source>Last test ({serial}) ABORTED by the operator — sources off and verified safe. Scan the next pack.</source>
        <translation>الاختبار الأخير ({serial}) أوقفه المشغّل — المصادر مطفأة وتم التحقق من سلامتها. امسح البطارية التالية.</translation>
    </message>
    <message>
        <source>a step failed</source>
        <translation>فشلت خطوة</translation>
    </message>
    <message>
        <source>   (+{n} more, listed below)</source>
        <translation>   (+{n} أخرى، مدرجة أدناه)</translation>
    </message>
    <message>
        <source>SAFE STATE NOT CONFIRMED</source>
        <translation>الوضع الآمن غير مؤكد</translation>
    </message>
    <message>
        <source>Do not touch the pack. {detail}. Call an engineer.</source>
        <translation>لا تلمس البطارية. {detail}. اتصل بمهندس.</translation>
    </message>
    <message>
        <source>Do not touch the pack: cleanup did not finish ({problem}). Call an engineer.</source>
        <translation>لا تلمس البطارية: لم يكتمل التنظيف ({problem}). اتصل بمهندس.</translation>
    </message>
    <message>
        <source>{pack} · every measurement within limits</source>
        <translation>{pack} · كل القياسات ضمن الحدود</translation>
    </message>
    <message>
        <source>see the log</source>
        <translation>راجع السجل</translation>
    </message>
    <message>
        <source>{where} — a station problem, not the pack; call an engineer</source>
        <translation>{where} — مشكلة في المحطة وليست في البطارية؛ اتصل بمهندس</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>توقف</translation>
    </message>
    <message>
        <source>{pack} · {reason} · sources off and verified safe</source>
        <translation>{pack} · {reason} · المصادر مطفأة وتم التحقق من سلامتها</translation>
    </message>
    <message>
        <source> and {n} more</source>
        <translation> و{n} أخرى</translation>
    </message>
    <message>
        <source>cells {numbers}</source>
        <translation>الخلايا {numbers}</translation>
    </message>
    <message>
        <source>elements {numbers}</source>
        <translation>العناصر {numbers}</translation>
    </message>
    <message>
        <source>cell {numbers}</source>
        <translation>الخلية {numbers}</translation>
    </message>
    <message>
        <source>element {numbers}</source>
        <translation>العنصر {numbers}</translation>
    </message>
    <message>
        <source>limits {limits}</source>
        <translation>الحدود {limits}</translation>
    </message>
</context>
<context>
    <name>ShiftPanel</name>
    <message>
        <source>Tested</source>
        <translation>تم اختبارها</translation>
    </message>
    <message>
        <source>Passed</source>
        <translation>ناجحة</translation>
    </message>
    <message>
        <source>First-pass yield</source>
        <translation>نسبة النجاح من أول مرة</translation>
    </message>
    <message>
        <source>This shift</source>
        <translation>هذه الوردية</translation>
    </message>
    <message>
        <source>Last packs</source>
        <translation>آخر البطاريات</translation>
    </message>
</context>
<context>
    <name>State</name>
    <message>
        <source>READY</source>
        <translation>جاهز</translation>
    </message>
    <message>
        <source>RUNNING</source>
        <translation>جارٍ</translation>
    </message>
    <message>
        <source>ABORTING</source>
        <translation>جارٍ الإيقاف</translation>
    </message>
    <message>
        <source>PASS</source>
        <translation>ناجح</translation>
    </message>
    <message>
        <source>FAIL</source>
        <translation>راسب</translation>
    </message>
    <message>
        <source>ERROR</source>
        <translation>خطأ</translation>
    </message>
    <message>
        <source>ABORTED</source>
        <translation>أُوقف</translation>
    </message>
    <message>
        <source>STOPPED</source>
        <translation>توقف</translation>
    </message>
    <message>
        <source>CANNOT START</source>
        <translation>لا يمكن البدء</translation>
    </message>
</context>
<context>
    <name>TimeSeriesPlot</name>
    <message>
        <source>No time series yet: V, I and T appear here during long steps.</source>
        <translation>لا توجد منحنيات بعد: يظهر الجهد والتيار والحرارة هنا أثناء الخطوات الطويلة.</translation>
    </message>
    <message>
        <source>time (s)</source>
        <translation>الزمن (ث)</translation>
    </message>
</context>
</TS>
